import { Identities1764374500000 } from './1764374500000-identities.js';

export const iamMigrations = [Identities1764374500000];
