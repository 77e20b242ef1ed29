import { shutdownGracefully, type StoppableServer } from './grpc-shutdown.util';

/** A server whose in-flight calls finish when the test says so. */
class FakeServer implements StoppableServer {
  forced = false;
  private done: (() => void) | null = null;
  tryShutdown(callback: () => void): void {
    this.done = callback;
  }
  forceShutdown(): void {
    this.forced = true;
  }
  finishCalls(): void {
    this.done?.();
  }
}

describe('shutdownGracefully', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('waits for in-flight calls without cancelling them when they finish within the grace period', async () => {
    const server = new FakeServer();
    const stopped = shutdownGracefully(server, 10_000);
    jest.advanceTimersByTime(9_999);
    server.finishCalls();
    await expect(stopped).resolves.toBe(false);
    jest.advanceTimersByTime(10);
    expect(server.forced).toBe(false);
  });

  it('cancels the calls still running when the grace period ends', async () => {
    const server = new FakeServer();
    const stopped = shutdownGracefully(server, 10_000);
    jest.advanceTimersByTime(10_000);
    await expect(stopped).resolves.toBe(true);
    expect(server.forced).toBe(true);
  });
});
