import { describe, expect, it } from 'vitest';
import { ServiceNames, AppNames } from './services.js';
import {
  allSubjects,
  HealthRequest,
  HealthResponse,
  healthSubject,
  isSubject,
  Subjects,
  subjectsOf,
} from './subjects.js';

/** Lowercase dot-separated tokens: no NATS wildcard (`*`, `>`), no whitespace, no empty token. */
const WIRE_NAME = /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)+$/;

describe('service names', () => {
  it('are unique, and every app is a service, the gateway or the all-in-one process', () => {
    expect(new Set(ServiceNames).size).toBe(ServiceNames.length);
    expect(new Set(AppNames).size).toBe(AppNames.length);
    expect([...AppNames].sort()).toEqual(['gateway', 'standalone', ...ServiceNames].sort());
  });
});

describe('subject registry', () => {
  it('lists every subject once in allSubjects', () => {
    expect(allSubjects).toEqual(Object.keys(Subjects));
    expect(new Set(allSubjects).size).toBe(allSubjects.length);
  });

  it.each(allSubjects)('%s belongs to a known service and starts with its name', (subject) => {
    const { service } = Subjects[subject];
    expect(ServiceNames).toContain(service);
    expect(subject.startsWith(`${service}.`)).toBe(true);
  });

  it.each(allSubjects)('%s is a plain NATS subject with a summary and request/response schemas', (subject) => {
    expect(subject).toMatch(WIRE_NAME);
    const definition = Subjects[subject];
    expect(definition.summary.trim()).not.toBe('');
    expect(typeof definition.request.safeParse).toBe('function');
    expect(typeof definition.response.safeParse).toBe('function');
  });

  it.each(ServiceNames)('%s has a health subject with the shared health schemas', (service) => {
    const subject = healthSubject(service);
    expect(subject).toBe(`${service}.health`);
    expect(isSubject(subject)).toBe(true);
    if (!isSubject(subject)) return;
    expect(Subjects[subject].service).toBe(service);
    expect(Subjects[subject].request).toBe(HealthRequest);
    expect(Subjects[subject].response).toBe(HealthResponse);
  });

  it('subjectsOf returns exactly the subjects of one service, and together they cover the registry', () => {
    expect(subjectsOf('iam')).toContain('iam.health');
    expect(subjectsOf('iam').every((subject) => subject.startsWith('iam.'))).toBe(true);
    expect(subjectsOf('kms')).not.toContain('iam.health');
    const covered = ServiceNames.flatMap((service) => subjectsOf(service));
    expect([...covered].sort()).toEqual([...allSubjects].sort());
    for (const service of ServiceNames) {
      for (const subject of subjectsOf(service)) expect(Subjects[subject].service).toBe(service);
    }
  });

  it('isSubject accepts registry subjects only, not inherited property names', () => {
    expect(isSubject('kms.key.wrap')).toBe(true);
    expect(isSubject('kms.key.wrapp')).toBe(false);
    expect(isSubject('kms.>')).toBe(false);
    expect(isSubject('constructor')).toBe(false);
    expect(isSubject('__proto__')).toBe(false);
    expect(isSubject('')).toBe(false);
  });
});

describe('health schemas', () => {
  it('the request is an empty object and nothing else', () => {
    expect(HealthRequest.safeParse({}).success).toBe(true);
    const extra = HealthRequest.safeParse({ extra: 1 });
    expect(extra.success).toBe(false);
    expect(extra.error?.issues[0]?.code).toBe('unrecognized_keys');
    expect(HealthRequest.safeParse(null).success).toBe(false);
  });

  it('the response requires the status to be ok or degraded', () => {
    const report = { service: 'iam', version: '0.1.0', replica: 'host:1', status: 'ok', checks: { db: { ok: true } } };
    expect(HealthResponse.parse(report)).toEqual(report);
    expect(HealthResponse.safeParse({ ...report, status: 'down' }).success).toBe(false);
    expect(HealthResponse.safeParse({ ...report, checks: { db: { ok: 'yes' } } }).success).toBe(false);
  });
});
