/** The ObjectStore (port of @sealbox/storage-drivers) the module built from its options. */
export const OBJECT_STORE = Symbol('sealbox:storage:object-store');
