import { describe, expect, it } from 'vitest';
import { inProcessStatus } from './transport-status.js';

describe('transport status', () => {
  it('the in-process transport is always connected', () => {
    expect(inProcessStatus.isConnected()).toBe(true);
    expect(inProcessStatus.describe()).toBe('in-process');
  });
});
