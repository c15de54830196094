/**
 * Preloaded into each app of the distributed stack (`node --import`): the app exits when the case
 * process that started it goes away (its IPC channel closes), so a case killed at its time limit
 * leaves no stack running on a shared machine. The app itself is unchanged; a normal stop still
 * sends SIGTERM first.
 */
process.once('disconnect', () => process.exit(0));
