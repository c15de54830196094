import { CloudEvent, IamWire, KmsWire, LifecycleWire, SecretsWire } from '@sealbox/contracts';
import { z } from 'zod';
import * as GatewayWire from '../wire.js';

export type JsonSchema = { [key: string]: unknown };
/** Requests are documented as clients write them (defaults optional), responses as they come back. */
export type SchemaMode = 'input' | 'output';

/** The contract namespaces whose exports name the document's components (`Secret`, `ResourceInstance`…). */
const NAMESPACES: readonly (readonly [prefix: string, exports: Readonly<Record<string, unknown>>])[] = [
  ['Secrets', SecretsWire],
  ['Lifecycle', LifecycleWire],
  ['Kms', KmsWire],
  ['Iam', IamWire],
  ['', { CloudEvent }],
  ['Gateway', GatewayWire],
];

/** Only structured schemas become components; strings, enums and the like stay inline where they are used. */
const STRUCTURED = new Set(['object', 'union', 'intersection', 'array']);
const isStructured = (schema: z.ZodType): boolean => STRUCTURED.has(schema._zod.def.type);

/** Each structured schema of the contracts under its export name (prefixed with its namespace where two namespaces use the name). */
function contractNames(): Map<z.ZodType, string> {
  const names = new Map<z.ZodType, string>();
  const taken = new Set<string>();
  for (const [prefix, exports] of NAMESPACES) {
    for (const [name, value] of Object.entries(exports)) {
      if (!(value instanceof z.ZodType) || !isStructured(value) || names.has(value)) continue;
      const unique = taken.has(name) ? `${prefix}${name}` : name;
      names.set(value, unique);
      taken.add(unique);
    }
  }
  return names;
}

const PLACEHOLDER = 'sealbox-schema:';
const placeholder = (mode: SchemaMode, id: string) => `${PLACEHOLDER}${mode}:${id}`;
const COMPONENT = '#/components/schemas/';

/** Every `$ref` of a JSON value, with a way to rewrite it. */
function visitRefs(value: unknown, visit: (ref: string, holder: JsonSchema) => void): void {
  if (Array.isArray(value)) {
    for (const item of value) visitRefs(item, visit);
  } else if (typeof value === 'object' && value !== null) {
    const holder = value as JsonSchema;
    if (typeof holder['$ref'] === 'string') visit(holder['$ref'], holder);
    for (const inner of Object.values(holder)) visitRefs(inner, visit);
  }
}

function parsePlaceholder(ref: string): { mode: SchemaMode; id: string } | undefined {
  if (!ref.startsWith(PLACEHOLDER)) return undefined;
  const rest = ref.slice(PLACEHOLDER.length);
  const colon = rest.indexOf(':');
  return { mode: rest.slice(0, colon) as SchemaMode, id: rest.slice(colon + 1) };
}

/**
 * The JSON Schemas (2020-12, as OpenAPI 3.1 takes them) of the zod schemas an API document uses,
 * converted with `z.toJSONSchema` from the contracts. A schema used as a request and as a response
 * is one component when both read the same, else two (`Name` and `NameInput`).
 */
export class SchemaCatalog {
  private readonly names = contractNames();

  /** `derived`: names of schemas made from a contract's (a request minus the fields a route fills). */
  constructor(private readonly derived: ReadonlyMap<z.ZodType, string> = new Map()) {}
  private readonly used = new Map<z.ZodType, string>();
  private readonly refs: JsonSchema[] = [];
  private readonly roots = new Set<string>();

  /**
   * A reference to `schema` as a request (`input`) or response (`output`) body. A schema without a
   * contract name is named `fallbackName`. Resolved by `components()`.
   */
  ref(schema: z.ZodType, mode: SchemaMode, fallbackName: string): JsonSchema {
    const id = this.names.get(schema) ?? this.derived.get(schema) ?? this.used.get(schema) ?? fallbackName;
    this.used.set(schema, id);
    const reference: JsonSchema = { $ref: placeholder(mode, id) };
    this.refs.push(reference);
    this.roots.add(placeholder(mode, id));
    return reference;
  }

  /** The schema of a value inline (query parameters): no component of its own. */
  inline(schema: z.ZodType, mode: SchemaMode): JsonSchema {
    const { $schema: _dialect, ...json } = z.toJSONSchema(schema, { io: mode, unrepresentable: 'any', reused: 'inline' }) as JsonSchema;
    return json;
  }

  /** The components the references point at (and those they point at), with every reference resolved. */
  components(): Record<string, JsonSchema> {
    const converted = { input: this.convert('input'), output: this.convert('output') };
    const schemaOf = (key: string): JsonSchema | undefined => {
      const parsed = parsePlaceholder(key);
      return parsed ? converted[parsed.mode][parsed.id] : undefined;
    };

    // Everything reachable from the operations, per mode.
    const reachable = new Set<string>();
    const pending = [...this.roots];
    while (pending.length) {
      const key = pending.pop() as string;
      if (reachable.has(key)) continue;
      const schema = schemaOf(key);
      if (!schema) throw new Error(`OpenAPI: no schema ${key}`);
      reachable.add(key);
      visitRefs(schema, (ref) => pending.push(ref));
    }

    // A schema reachable in both modes is one component unless it, or one it refers to, differs.
    const neutral = (schema: JsonSchema | undefined) => JSON.stringify(schema).replaceAll(`${PLACEHOLDER}input:`, PLACEHOLDER).replaceAll(`${PLACEHOLDER}output:`, PLACEHOLDER);
    const both = [...reachable].map(parsePlaceholder).filter((key) => key?.mode === 'input' && reachable.has(placeholder('output', key.id))).map((key) => key?.id ?? '');
    const differs = new Set(both.filter((id) => neutral(converted.input[id]) !== neutral(converted.output[id])));
    for (let changed = true; changed; ) {
      changed = false;
      for (const id of both) {
        if (differs.has(id)) continue;
        let child = false;
        visitRefs(converted.input[id], (ref) => (child ||= differs.has(parsePlaceholder(ref)?.id ?? '')));
        if (child) {
          differs.add(id);
          changed = true;
        }
      }
    }
    const nameOf = (key: string): string => {
      const { mode, id } = parsePlaceholder(key) ?? { mode: 'output', id: key };
      return mode === 'input' && differs.has(id) ? `${id}Input` : id;
    };

    const components: Record<string, JsonSchema> = {};
    for (const key of [...reachable].sort()) {
      const name = nameOf(key);
      if (components[name]) continue;
      const copy = structuredClone(schemaOf(key) as JsonSchema);
      delete copy['$schema'];
      delete copy['$id'];
      visitRefs(copy, (ref, holder) => (holder['$ref'] = `${COMPONENT}${nameOf(ref)}`));
      components[name] = copy;
    }
    for (const reference of this.refs) reference['$ref'] = `${COMPONENT}${nameOf(reference['$ref'] as string)}`;
    return Object.fromEntries(Object.entries(components).sort(([a], [b]) => a.localeCompare(b)));
  }

  private convert(mode: SchemaMode): Record<string, JsonSchema> {
    const registry = z.registry<{ id: string }>();
    for (const [schema, id] of [...this.names, ...this.used]) if (!registry.has(schema)) registry.add(schema, { id });
    const { schemas } = z.toJSONSchema(registry, {
      io: mode,
      target: 'draft-2020-12',
      unrepresentable: 'any',
      uri: (id) => placeholder(mode, id),
    }) as { schemas: Record<string, JsonSchema> };
    return schemas;
  }
}
