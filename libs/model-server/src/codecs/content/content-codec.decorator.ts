import { DiscoveryService } from '@nestjs/core';

/**
 * Marks a provider as a {@link ContentCodec}: the {@link ContentCodecRegistry} finds every provider so marked, in
 * any module of the application, when the application starts. The provider must be a singleton (the default scope).
 *
 * @example
 * @ContentCodecProvider()
 * @Injectable()
 * export class TsvCodec implements ContentCodec { ... }
 *
 * @Module({ providers: [TsvCodec] })
 * export class AppModule {}
 * @publicApi
 */
export const ContentCodecProvider = DiscoveryService.createDecorator<void>();
