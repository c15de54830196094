/** The seal endpoints' bodies live in libs/contracts (SealWire); re-exported for the routes. */
import { SealWire } from '@sealbox/contracts';

export const { SealStatus, SealSecretRequest, SealSecretResponse, UnsealRequest, RotateResponse } = SealWire;
export type SealStatus = SealWire.SealStatus;
export type SealSecretRequest = SealWire.SealSecretRequest;
export type SealSecretResponse = SealWire.SealSecretResponse;
export type UnsealRequest = SealWire.UnsealRequest;
export type RotateResponse = SealWire.RotateResponse;
