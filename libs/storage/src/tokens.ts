export const OBJECT_STORE_PROBE = Symbol('sealbox:storage:probe');
