import { Kms1764500000001 } from './1764500000001-kms.js';
import { KmsSchedules1764500000002 } from './1764500000002-kms-schedules.js';

/** The kms schema, in order. */
export const kmsMigrations = [Kms1764500000001, KmsSchedules1764500000002];
