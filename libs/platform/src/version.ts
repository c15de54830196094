/** The Sealbox release every service reports on its health subject. Kept equal to package.json by a test. */
export const SEALBOX_VERSION = '0.1.0';
