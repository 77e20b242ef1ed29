import { ModelServer } from './model-server';
import type { InferenceResult } from './inference.interface';
import { declaredOperations, Operation } from './operation.decorator';

class Base extends ModelServer {
  predict(): InferenceResult {
    return { outputs: [] };
  }
  @Operation('stats') stats(): unknown {
    return 1;
  }
}

class Child extends Base {
  @Operation() reset(): unknown {
    return 2;
  }
}

describe('@Operation', () => {
  it('registers operations per class, inherited by subclasses without leaking upwards', () => {
    expect([...declaredOperations(new Child()).keys()].sort()).toEqual(['reset', 'stats']);
    expect([...declaredOperations(new Base()).keys()]).toEqual(['stats']);
  });

  it.each(['infer', 'explain', 'ready', 'versions'])('refuses the protocol route %s', (name) => {
    expect(() => Operation(name)(Base.prototype, 'stats', {})).toThrow(/route of the protocol/);
  });

  it('refuses names that cannot be a route segment', () => {
    expect(() => Operation('a/b')(Base.prototype, 'stats', {})).toThrow(/1-128 letters/);
  });
});
