/** The framework's version, reported by `GET /v2` unless configured otherwise. @publicApi */
export const MODEL_SERVER_VERSION = '0.1.0';
