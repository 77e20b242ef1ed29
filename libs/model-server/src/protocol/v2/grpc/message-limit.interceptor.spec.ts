import { status } from '@grpc/grpc-js';
import { explainSizeStatus } from './message-limit.interceptor';

describe('message size statuses', () => {
  it('names the receive setting for grpc-js receive limits', () => {
    const s = explainSizeStatus({ code: status.RESOURCE_EXHAUSTED, details: 'Received message larger than max (70000 vs 65536)' });
    expect(s.details).toMatch(/^the request message is 70000 bytes, over the server's limit of 65536 bytes: raise maxReceiveMessageBytes/);
    const inflated = explainSizeStatus({ code: status.RESOURCE_EXHAUSTED, details: 'Received message that decompresses to a size larger than 1024' });
    expect(inflated.details).toMatch(/inflates to more than the server's limit of 1024 bytes: raise maxReceiveMessageBytes/);
  });

  it('names the send setting for grpc-js send limits (without its 5-byte frame header)', () => {
    const s = explainSizeStatus({ code: status.RESOURCE_EXHAUSTED, details: 'Sent message larger than max (70005 vs. 65536)' });
    expect(s.details).toMatch(/^the response message is 70000 bytes, over the server's limit of 65536 bytes: raise maxSendMessageBytes/);
  });

  it('leaves other statuses alone', () => {
    const other = { code: status.RESOURCE_EXHAUSTED, details: 'quota' };
    expect(explainSizeStatus(other)).toBe(other);
    const ok = { code: status.OK, details: 'Received message larger than max (1 vs 0)' };
    expect(explainSizeStatus(ok)).toBe(ok);
  });
});
