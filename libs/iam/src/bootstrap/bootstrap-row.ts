/** The id of the one bootstrap row: its account is the platform account (the one created on first start). */
export const BOOTSTRAP_ROW = 'bootstrap';
