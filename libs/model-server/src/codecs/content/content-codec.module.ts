import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { ContentCodecRegistry } from './content-codec.registry';
import { CsvContentCodec } from './csv-content.codec';
import { JsonContentCodec } from './json-content.codec';
import { NpyContentCodec } from './npy-content.codec';

/**
 * Provides the {@link ContentCodecRegistry}: the built-in JSON, CSV and NPY codecs plus every provider of the
 * application marked with `@ContentCodecProvider()`.
 *
 * @publicApi
 */
@Module({
  imports: [DiscoveryModule],
  providers: [JsonContentCodec, CsvContentCodec, NpyContentCodec, ContentCodecRegistry],
  exports: [ContentCodecRegistry],
})
export class ContentCodecModule {}
