/**
 * A reader for the subset of the NATS server configuration format that docker/nats.conf uses, so the
 * unit tier can check its users and permissions against libs/contracts without a server:
 * `key: value`, `key = value` and `key { ... }` entries; `{}` objects and `[]` arrays whose items are
 * separated by commas or line breaks; quoted strings, bare words and `$VARIABLE` references (kept as
 * text); `#` and `//` comments. Anything else throws, naming the line.
 */
import { subjectMatches } from '@sealbox/platform';

export type NatsConfValue = string | NatsConfValue[] | { [key: string]: NatsConfValue };
export type NatsConfObject = { [key: string]: NatsConfValue };

interface Token {
  readonly kind: '{' | '}' | '[' | ']' | 'sep' | 'text';
  readonly text: string;
  readonly line: number;
}

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  for (let index = 0; index < source.length; ) {
    const char = source.charAt(index);
    if (char === '\n') line++;
    if (/\s|,/.test(char)) {
      index++;
    } else if (char === '#' || source.startsWith('//', index)) {
      while (index < source.length && source.charAt(index) !== '\n') index++;
    } else if (char === '{' || char === '}' || char === '[' || char === ']') {
      tokens.push({ kind: char, text: char, line });
      index++;
    } else if (char === ':' || char === '=') {
      tokens.push({ kind: 'sep', text: char, line });
      index++;
    } else if (char === '"' || char === "'") {
      const end = source.indexOf(char, index + 1);
      if (end < 0 || source.slice(index, end).includes('\n')) throw new Error(`nats.conf:${line}: unterminated string`);
      tokens.push({ kind: 'text', text: source.slice(index + 1, end), line });
      index = end + 1;
    } else {
      const word = /^[^\s,{}[\]:="'#]+/.exec(source.slice(index))?.[0] ?? '';
      if (!word) throw new Error(`nats.conf:${line}: unexpected ${JSON.stringify(char)}`);
      tokens.push({ kind: 'text', text: word, line });
      index += word.length;
    }
  }
  return tokens;
}

/** Parse a NATS configuration (see the module comment for the subset). */
export function parseNatsConf(source: string): NatsConfObject {
  const tokens = tokenize(source);
  let position = 0;
  const peek = (): Token | undefined => tokens[position];
  const next = (): Token => {
    const token = tokens[position++];
    if (!token) throw new Error('nats.conf: unexpected end of file');
    return token;
  };

  function value(): NatsConfValue {
    const token = next();
    if (token.kind === 'text') return token.text;
    if (token.kind === '{') return object('}');
    if (token.kind === '[') {
      const items: NatsConfValue[] = [];
      while (peek()?.kind !== ']') items.push(value());
      next();
      return items;
    }
    throw new Error(`nats.conf:${token.line}: unexpected ${JSON.stringify(token.text)}`);
  }

  function object(closer: '}' | undefined): NatsConfObject {
    const entries: NatsConfObject = {};
    for (;;) {
      const token = peek();
      if (!token) {
        if (closer) throw new Error('nats.conf: unexpected end of file, missing "}"');
        return entries;
      }
      next();
      if (token.kind === closer) return entries;
      if (token.kind !== 'text') throw new Error(`nats.conf:${token.line}: expected a key, got ${JSON.stringify(token.text)}`);
      if (peek()?.kind === 'sep') next();
      entries[token.text] = value();
    }
  }

  return object(undefined);
}

export interface NatsPermissions {
  readonly publish: { readonly allow: readonly string[]; readonly deny: readonly string[] };
  readonly subscribe: { readonly allow: readonly string[]; readonly deny: readonly string[] };
}

export interface NatsUser {
  readonly user: string;
  readonly password: string;
  readonly permissions: NatsPermissions;
}

function isObject(value: NatsConfValue | undefined): value is NatsConfObject {
  return typeof value === 'object' && !Array.isArray(value);
}

function subjects(value: NatsConfValue | undefined, where: string): string[] {
  if (value === undefined) return [];
  const list = Array.isArray(value) ? value : [value];
  return list.map((item) => {
    if (typeof item !== 'string') throw new Error(`${where}: expected subjects`);
    return item;
  });
}

/** A direction's rules: a plain list means `allow`; an object may hold `allow` and `deny`. */
function direction(value: NatsConfValue | undefined, where: string): NatsPermissions['publish'] {
  if (value === undefined || typeof value === 'string' || Array.isArray(value)) {
    return { allow: subjects(value, where), deny: [] };
  }
  return { allow: subjects(value.allow, `${where}.allow`), deny: subjects(value.deny, `${where}.deny`) };
}

/** The users of the `authorization` block, with their permissions. */
export function natsUsers(conf: NatsConfObject): NatsUser[] {
  const authorization = conf.authorization;
  if (!isObject(authorization) || !Array.isArray(authorization.users)) {
    throw new Error('nats.conf: no authorization { users: [...] } block');
  }
  return authorization.users.map((entry, index) => {
    const where = `authorization.users[${index}]`;
    if (!isObject(entry) || typeof entry.user !== 'string' || typeof entry.password !== 'string') {
      throw new Error(`${where}: expected { user, password, permissions }`);
    }
    const permissions = isObject(entry.permissions) ? entry.permissions : {};
    return {
      user: entry.user,
      password: entry.password,
      permissions: {
        publish: direction(permissions.publish, `${where}.permissions.publish`),
        subscribe: direction(permissions.subscribe, `${where}.permissions.subscribe`),
      },
    };
  });
}

/** Whether a rule set lets a client use the concrete `subject`: an allow pattern matches it and no deny pattern does. */
export function permits(rules: NatsPermissions['publish'], subject: string): boolean {
  return rules.allow.some((pattern) => subjectMatches(pattern, subject)) && !rules.deny.some((pattern) => subjectMatches(pattern, subject));
}
