/** The REST schemas live in shared/api.ts (the dashboard's client uses them too); re-exported for server imports. */
export * from '../../shared/api.js';
