import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { booleanFlag, DatabaseSettings, HttpSettings, LogSettings } from './fragments.js';
import { CONFIG_FILE_VARIABLE, ConfigError, describeConfig, loadConfig } from './loader.js';

/** Checked-in, read-only fixtures: the loader reads the file itself, there is no seam to fake it. */
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

const TestConfig = z.object({
  ...LogSettings,
  ...HttpSettings,
  ...DatabaseSettings,
  SEALBOX_S3_PATH_STYLE: booleanFlag.default(true).describe('Address buckets by path'),
});

const DATABASE_URL = 'postgres://sealbox:pw@127.0.0.1:5432/sealbox';

/** The problems of a configuration that must be refused. */
function problemsOf(env: Record<string, string | undefined>): readonly string[] {
  try {
    loadConfig(TestConfig, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).name).toBe('ConfigError');
    return (error as ConfigError).problems;
  }
  throw new Error('expected the configuration to be refused');
}

const HTTP_LIMIT_DEFAULTS = {
  SEALBOX_HTTP_REQUEST_TIMEOUT_MS: 30_000,
  SEALBOX_HTTP_HEADERS_TIMEOUT_MS: 10_000,
  SEALBOX_HTTP_KEEP_ALIVE_TIMEOUT_MS: 5_000,
  SEALBOX_HTTP_MAX_CONNECTIONS: 4096,
  SEALBOX_JSON_MAX_DEPTH: 64,
};

describe('loadConfig', () => {
  it('applies the defaults and converts the values', () => {
    const config = loadConfig(TestConfig, { SEALBOX_DATABASE_URL: DATABASE_URL });
    expect(config).toEqual({
      SEALBOX_LOG_LEVEL: 'info',
      SEALBOX_LOG_FORMAT: 'auto',
      SEALBOX_HOST: '127.0.0.1',
      SEALBOX_PORT: 8080,
      SEALBOX_BODY_LIMIT_BYTES: 1_048_576,
      ...HTTP_LIMIT_DEFAULTS,
      SEALBOX_DATABASE_URL: DATABASE_URL,
      SEALBOX_S3_PATH_STYLE: true,
    });
  });

  it('takes the values set in the environment', () => {
    const config = loadConfig(TestConfig, {
      SEALBOX_DATABASE_URL: DATABASE_URL,
      SEALBOX_PORT: '8443',
      SEALBOX_LOG_LEVEL: 'warn',
      SEALBOX_S3_PATH_STYLE: '0',
      SEALBOX_TLS_CERT_FILE: '/etc/tls/cert.pem',
      UNRELATED: 'x',
    });
    expect(config.SEALBOX_PORT).toBe(8443);
    expect(config.SEALBOX_LOG_LEVEL).toBe('warn');
    expect(config.SEALBOX_S3_PATH_STYLE).toBe(false);
    expect(config.SEALBOX_TLS_CERT_FILE).toBe('/etc/tls/cert.pem');
    expect(config).not.toHaveProperty('UNRELATED');
  });

  it('names a missing required variable', () => {
    const problems = problemsOf({});
    expect(problems).toEqual(['SEALBOX_DATABASE_URL: is required but not set']);
  });

  it('the error message lists every problem, one per line', () => {
    try {
      loadConfig(TestConfig, { SEALBOX_PORT: '70000' });
      expect.unreachable('the configuration must be refused');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const message = (error as Error).message;
      expect(message.split('\n')[0]).toBe('Invalid configuration:');
      expect(message).toContain('\n  SEALBOX_PORT: ');
      expect(message).toContain('\n  SEALBOX_DATABASE_URL: is required but not set');
    }
  });

  it.each([
    ['SEALBOX_PORT', '70000'],
    ['SEALBOX_PORT', 'eighty'],
    ['SEALBOX_PORT', '80.5'],
    ['SEALBOX_BODY_LIMIT_BYTES', '-1'],
    ['SEALBOX_LOG_LEVEL', 'verbose'],
    ['SEALBOX_S3_PATH_STYLE', 'yes'],
    ['SEALBOX_DATABASE_URL', 'mysql://root@db/sealbox'],
  ])('names %s when its value (%s) is invalid', (name, value) => {
    const problems = problemsOf({ SEALBOX_DATABASE_URL: DATABASE_URL, [name]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^${name}: `));
    expect(problems[0]).not.toContain('is required');
  });

  it('reports every offending variable at once', () => {
    const problems = problemsOf({ SEALBOX_PORT: '-1', SEALBOX_LOG_LEVEL: 'loud' });
    expect(problems.map((problem) => problem.split(':')[0]).sort()).toEqual([
      'SEALBOX_DATABASE_URL',
      'SEALBOX_LOG_LEVEL',
      'SEALBOX_PORT',
    ]);
  });

  it('never repeats a refused value (it may be a secret)', () => {
    const problems = problemsOf({ SEALBOX_DATABASE_URL: 'mysql://root:s3cr3t-pw@db/sealbox' });
    expect(problems.join('\n')).not.toContain('s3cr3t-pw');
  });

  it('treats an empty variable as unset: the default applies, or a required one is missing', () => {
    expect(loadConfig(TestConfig, { SEALBOX_DATABASE_URL: DATABASE_URL, SEALBOX_PORT: '' }).SEALBOX_PORT).toBe(8080);
    expect(problemsOf({ SEALBOX_DATABASE_URL: '' })).toEqual(['SEALBOX_DATABASE_URL: is required but not set']);
  });

  it('reads process.env when no environment is given', () => {
    const Schema = z.object({ SEALBOX_CONFIG_TEST_UNSET_VARIABLE: z.string().default('fallback') });
    expect(loadConfig(Schema).SEALBOX_CONFIG_TEST_UNSET_VARIABLE).toBe('fallback');
  });

  describe(`with a JSON file named by ${CONFIG_FILE_VARIABLE}`, () => {
    it('takes the settings of the file, JSON numbers and booleans read like variables', () => {
      const config = loadConfig(TestConfig, { [CONFIG_FILE_VARIABLE]: fixture('settings.json') });
      expect(config).toEqual({
        SEALBOX_LOG_LEVEL: 'debug',
        SEALBOX_LOG_FORMAT: 'auto',
        SEALBOX_HOST: '0.0.0.0',
        SEALBOX_PORT: 9443,
        SEALBOX_BODY_LIMIT_BYTES: 1_048_576,
        ...HTTP_LIMIT_DEFAULTS,
        SEALBOX_DATABASE_URL: 'postgres://file@db/sealbox',
        SEALBOX_S3_PATH_STYLE: false,
      });
    });

    it('lets the environment win over the file', () => {
      const config = loadConfig(TestConfig, {
        [CONFIG_FILE_VARIABLE]: fixture('settings.json'),
        SEALBOX_PORT: '7000',
        SEALBOX_DATABASE_URL: DATABASE_URL,
      });
      expect(config.SEALBOX_PORT).toBe(7000);
      expect(config.SEALBOX_DATABASE_URL).toBe(DATABASE_URL);
      expect(config.SEALBOX_HOST).toBe('0.0.0.0');
    });

    it('falls back to the file for a variable set but empty', () => {
      const config = loadConfig(TestConfig, { [CONFIG_FILE_VARIABLE]: fixture('settings.json'), SEALBOX_PORT: '' });
      expect(config.SEALBOX_PORT).toBe(9443);
    });

    it('ignores an empty file variable', () => {
      expect(problemsOf({ [CONFIG_FILE_VARIABLE]: '' })).toEqual(['SEALBOX_DATABASE_URL: is required but not set']);
    });

    it('refuses a file that cannot be read, naming the variable, the path and the reason', () => {
      const missing = fixture('does-not-exist.json');
      expect(problemsOf({ [CONFIG_FILE_VARIABLE]: missing })).toEqual([
        `${CONFIG_FILE_VARIABLE}: cannot read ${missing} (ENOENT)`,
      ]);
    });

    it.each(['truncated.json', 'array.json'])('refuses %s, which is not a JSON object', (name) => {
      expect(problemsOf({ [CONFIG_FILE_VARIABLE]: fixture(name) })).toEqual([
        `${CONFIG_FILE_VARIABLE}: ${fixture(name)} is not a JSON object of SEALBOX_* settings`,
      ]);
    });

    it('names a setting of the file whose value has the wrong type', () => {
      const problems = problemsOf({ [CONFIG_FILE_VARIABLE]: fixture('wrong-type.json'), SEALBOX_DATABASE_URL: DATABASE_URL });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^SEALBOX_PORT: /);
    });
  });
});

describe('describeConfig', () => {
  it('lists each variable with whether it is required, its default and its description', () => {
    const variables = describeConfig(TestConfig);
    expect(variables.map((variable) => variable.name)).toEqual(Object.keys(TestConfig.shape));
    expect(variables.find((variable) => variable.name === 'SEALBOX_DATABASE_URL')).toEqual({
      name: 'SEALBOX_DATABASE_URL',
      required: true,
      description: 'PostgreSQL connection URL (required; holds the password, so it has no default)',
    });
    expect(variables.find((variable) => variable.name === 'SEALBOX_PORT')).toEqual({
      name: 'SEALBOX_PORT',
      required: false,
      defaultValue: '8080',
      description: 'Port the HTTP API listens on',
    });
    expect(variables.find((variable) => variable.name === 'SEALBOX_TLS_KEY_FILE')).toEqual({
      name: 'SEALBOX_TLS_KEY_FILE',
      required: false,
      description: 'PEM private key for SEALBOX_TLS_CERT_FILE',
    });
    expect(variables.find((variable) => variable.name === 'SEALBOX_S3_PATH_STYLE')?.defaultValue).toBe('true');
  });

  it('gives an empty description to an undocumented variable', () => {
    const [variable] = describeConfig(z.object({ SEALBOX_UNDOCUMENTED: z.string() }));
    expect(variable).toEqual({ name: 'SEALBOX_UNDOCUMENTED', required: true, description: '' });
  });
});
