export type {
  ContentCodec,
  ContentTarget,
  ContentInput,
  ContentFormat,
  DecodedContent,
  EncodeContext,
  MediaTypeParams,
} from './content-codec.interface';
export { ContentCodecProvider } from './content-codec.decorator';
export { ContentCodecRegistry } from './content-codec.registry';
export { ContentCodecModule } from './content-codec.module';
export { JsonContentCodec } from './json-content.codec';
export { CsvContentCodec } from './csv-content.codec';
export { NpyContentCodec } from './npy-content.codec';
export { parseMediaType, negotiateMediaType } from './media-type.util';
export type { MediaType, NegotiatedType } from './media-type.util';
export { notAcceptable, unsupportedMediaType } from '../../errors';
export { contentTarget } from './content-target.util';
export type { ContentTargetOptions } from './content-target.util';
