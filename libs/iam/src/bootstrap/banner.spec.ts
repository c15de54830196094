import { describe, expect, it } from 'vitest';
import { firstStartBanner } from './bootstrap.service.js';

const KEY = 'k'.repeat(43);

describe('the first-start banner', () => {
  it('shows the key on a terminal, once, with the file it was also written to', () => {
    const banner = firstStartBanner('acc-1', KEY, '/data/admin-apikey', true);
    expect(banner).toContain(`admin API key: ${KEY}`);
    expect(banner).toContain('(also written to /data/admin-apikey, mode 0600)');
    expect(banner.trimEnd().split('\n').at(-1)).toBe('This key is shown once. Store it now; it cannot be displayed again.');
  });

  it('off a terminal, with a key file, names only the file: the key stays out of the log stream', () => {
    const banner = firstStartBanner('acc-1', KEY, '/data/admin-apikey', false);
    expect(banner).not.toContain(KEY);
    expect(banner).toContain('admin API key: written to /data/admin-apikey (mode 0600); not printed, as this output is not a terminal.');
    expect(banner).toContain('account id:    acc-1');
  });

  it('off a terminal without a key file, prints the key (it has nowhere else to go) and says how to avoid that', () => {
    const banner = firstStartBanner('acc-1', KEY, undefined, false);
    expect(banner).toContain(`admin API key: ${KEY}`);
    expect(banner).toContain('set SEALBOX_IAM_ADMIN_KEY_FILE');
  });
});
