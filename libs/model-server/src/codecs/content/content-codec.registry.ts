import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import type { ContentCodec } from './content-codec.interface';
import { ContentCodecProvider } from './content-codec.decorator';
import { CsvContentCodec } from './csv-content.codec';
import { JsonContentCodec } from './json-content.codec';
import { negotiateMediaType, type NegotiatedType } from './media-type.util';
import { NpyContentCodec } from './npy-content.codec';

/** Negotiations remembered per (preferred type, Accept header); cleared when full. */
const NEGOTIATION_CACHE_SIZE = 256;

type Direction = 'decode' | 'encode';

/**
 * The codecs of the application, by media type: the built-in JSON, CSV and NPY codecs, then every provider
 * marked with `@ContentCodecProvider()` (found at boot), which replaces a built-in codec for the media types and
 * directions it implements. Two of your codecs claiming one media type and direction is a boot error.
 *
 * @publicApi
 */
@Injectable()
export class ContentCodecRegistry implements OnModuleInit {
  private readonly logger = new Logger('ContentCodecRegistry');
  private readonly decoders = new Map<string, ContentCodec>();
  private readonly encoders = new Map<string, ContentCodec>();
  private readonly negotiated = new Map<string, NegotiatedType | null>();
  private readableTypes: readonly string[] = [];
  private writableTypes: readonly string[] = [];

  constructor(
    @Inject(DiscoveryService) private readonly discovery: DiscoveryService,
    @Inject(JsonContentCodec) json: JsonContentCodec,
    @Inject(CsvContentCodec) csv: CsvContentCodec,
    @Inject(NpyContentCodec) npy: NpyContentCodec,
  ) {
    for (const codec of [json, csv, npy]) this.add(codec, null);
  }

  onModuleInit(): void {
    const owners = new Map<string, string>();
    const seen = new Set<unknown>();
    for (const wrapper of this.discovery.getProviders({ metadataKey: ContentCodecProvider.KEY })) {
      const codec = wrapper.instance as ContentCodec | undefined;
      const name = wrapper.metatype?.name ?? String(wrapper.token);
      if (!wrapper.isDependencyTreeStatic() || codec === undefined || codec === null) {
        throw new Error(`content codec ${name} must be a singleton provider (no request or transient scope)`);
      }
      if (seen.has(wrapper.metatype ?? codec)) continue; // the same codec class provided by several modules
      seen.add(wrapper.metatype ?? codec);
      this.add(codec, { name, owners });
    }
  }

  /** Media types a request body may have. */
  get readable(): readonly string[] {
    return this.readableTypes;
  }

  /** Media types a response may be written in. */
  get writable(): readonly string[] {
    return this.writableTypes;
  }

  /** The codec that reads `mediaType` (lower case, no parameters), if any. */
  decoder(mediaType: string): ContentCodec | undefined {
    return this.decoders.get(mediaType);
  }

  /** The codec that writes `mediaType`, if any. */
  encoder(mediaType: string): ContentCodec | undefined {
    return this.encoders.get(mediaType);
  }

  /** The response type for an `Accept` header (see {@link negotiateMediaType}), or undefined for a 406. */
  negotiate(accept: string | undefined, preferred: string): NegotiatedType | undefined {
    const key = `${preferred}\n${accept ?? ''}`;
    const cached = this.negotiated.get(key);
    if (cached !== undefined) return cached ?? undefined;
    const result = negotiateMediaType(accept, this.writableTypes, preferred);
    if (this.negotiated.size >= NEGOTIATION_CACHE_SIZE) this.negotiated.clear();
    this.negotiated.set(key, result ?? null);
    return result;
  }

  private add(codec: ContentCodec, custom: { name: string; owners: Map<string, string> } | null): void {
    if (!Array.isArray(codec.mediaTypes) || codec.mediaTypes.length === 0) {
      throw new Error(`content codec ${custom?.name ?? codec.constructor.name} lists no mediaTypes`);
    }
    const directions: [Direction, Map<string, ContentCodec>][] = [];
    if (typeof codec.decode === 'function') directions.push(['decode', this.decoders]);
    if (typeof codec.encode === 'function') directions.push(['encode', this.encoders]);
    if (directions.length === 0) throw new Error(`content codec ${custom?.name ?? codec.constructor.name} has neither decode() nor encode()`);
    for (const raw of codec.mediaTypes) {
      const type = raw.trim().toLowerCase();
      if (!/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(type)) throw new Error(`content codec ${custom?.name ?? codec.constructor.name}: '${raw}' is not a media type`);
      for (const [direction, table] of directions) {
        if (custom !== null) {
          const key = `${direction} ${type}`;
          const other = custom.owners.get(key);
          if (other !== undefined) throw new Error(`content codecs ${other} and ${custom.name} both ${direction} ${type}; keep one`);
          custom.owners.set(key, custom.name);
          if (table.has(type)) this.logger.log(`${custom.name} replaces the built-in ${direction} of ${type}`);
        }
        table.set(type, codec);
      }
    }
    this.readableTypes = [...this.decoders.keys()];
    this.writableTypes = [...this.encoders.keys()];
    this.negotiated.clear();
  }
}
