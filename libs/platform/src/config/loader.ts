import { readFileSync } from 'node:fs';
import { z } from 'zod';

/** Every setting is one `SEALBOX_*` variable; an app's schema is a flat object of them. */
export type ConfigShape = Record<`SEALBOX_${string}`, z.ZodType>;

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** Optional JSON file of `SEALBOX_*` settings; variables in the environment win over it. */
export const CONFIG_FILE_VARIABLE = 'SEALBOX_CONFIG_FILE';

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError([`${CONFIG_FILE_VARIABLE}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`]);
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
    return parsed as Record<string, unknown>;
  } catch {
    throw new ConfigError([`${CONFIG_FILE_VARIABLE}: ${path} is not a JSON object of SEALBOX_* settings`]);
  }
}

const isSet = (value: unknown): boolean => value !== undefined && value !== null && value !== '';

/**
 * Validate an app's configuration once, at start. Throws ConfigError naming every offending variable.
 * The only place that reads `process.env`.
 */
export function loadConfig<S extends z.ZodObject<ConfigShape>>(
  schema: S,
  env: Record<string, string | undefined> = process.env,
): z.output<S> {
  const filePath = env[CONFIG_FILE_VARIABLE];
  const fromFile = filePath ? readConfigFile(filePath) : {};
  const input: Record<string, unknown> = {};
  for (const name of Object.keys(schema.shape)) {
    // An empty variable counts as unset, so `FOO=` falls back to the file, then to the default, or is
    // reported missing.
    const value = isSet(env[name]) ? env[name] : fromFile[name];
    // JSON numbers and booleans are read like the text of an environment variable.
    if (isSet(value)) input[name] = typeof value === 'number' || typeof value === 'boolean' ? String(value) : value;
  }
  const result = schema.safeParse(input);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => {
        const name = issue.path.length ? issue.path.map(String).join('.') : 'configuration';
        return issue.code === 'invalid_type' && input[name] === undefined
          ? `${name}: is required but not set`
          : `${name}: ${issue.message}`;
      }),
    );
  }
  return result.data;
}

export interface ConfigVariable {
  readonly name: string;
  readonly required: boolean;
  readonly defaultValue?: string;
  readonly description: string;
}

/** The variables of a schema, for docs/configuration.md (`npm run docs:config`) and the compose check. */
export function describeConfig(schema: z.ZodObject<ConfigShape>): ConfigVariable[] {
  return Object.entries(schema.shape).map(([name, field]) => {
    const optional = field.safeParse(undefined).success;
    const defaulted = optional ? field.safeParse(undefined).data : undefined;
    return {
      name,
      required: !optional,
      ...(defaulted !== undefined ? { defaultValue: String(defaulted) } : {}),
      description: field.description ?? '',
    };
  });
}
