/** The content type of binary tensor data: the binary extension's answers, and bodies that are bytes, not text. @internal */
export const BINARY_TYPE = 'application/octet-stream';

/** The header of the binary tensor extension: the length of the JSON part that comes before the tensors' bytes. @internal */
export const INFERENCE_HEADER = 'inference-header-content-length';
