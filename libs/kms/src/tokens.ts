export const HSM_PROBE = Symbol('sealbox:kms:hsm-probe');
