import { readExecutionOptions } from './execution-options.util';

describe('readExecutionOptions', () => {
  it('applies the defaults: main thread, no batching, 5 ms window, 1024 waiting requests, 5 s kill grace', () => {
    expect(readExecutionOptions({})).toEqual({ workers: 0, maxBatchSize: 1, maxLatencyMs: 5, maxQueue: 1024, loadInMainThread: false, workerKillGraceMs: 5000 });
  });

  it('reads every key', () => {
    expect(readExecutionOptions({ workers: 2, maxBatchSize: 32, maxLatencyMs: 0.5, maxQueue: 10, loadInMainThread: true, workerKillGraceMs: 0 })).toEqual({
      workers: 2,
      maxBatchSize: 32,
      maxLatencyMs: 0.5,
      maxQueue: 10,
      loadInMainThread: true,
      workerKillGraceMs: 0,
    });
  });

  it('lists every invalid key in one error naming the model', () => {
    expect(() =>
      readExecutionOptions({ workers: 1.5, maxBatchSize: 0, maxLatencyMs: -1, maxQueue: '9', loadInMainThread: 'yes', workerKillGraceMs: -1 }, "model 'm'"),
    ).toThrow(
      /invalid execution settings for model 'm': workers must be an integer ≥ 0, got 1.5; maxBatchSize must be an integer ≥ 1, got 0; maxQueue must be an integer ≥ 1, got "9"; workerKillGraceMs must be an integer ≥ 0, got -1; maxLatencyMs must be a number of milliseconds ≥ 0, got -1; loadInMainThread must be true or false, got "yes"/,
    );
  });
});
