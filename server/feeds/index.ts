/** Public surface of the feed layer (see docs/INTERFACES.md "server/feeds"). */
export type { VenueEndpoints, InstrumentMeta, MetadataTable, UpdateSink, VenueAdapter, VenueParser, ParseOutcome, ConnectionPlan, FetchJson } from './adapter.js';
export { LIVE_ENDPOINTS, ADAPTERS } from './endpoints.js';
export { FeedManager, type FeedEngine, type FeedManagerOptions } from './manager.js';
export { FeedConnection, DEFAULT_BACKOFF, type BackoffOptions } from './connection.js';
export { FrameRecorder, readRecording, parseRecordLine, type RecordedFrame } from './recorder.js';
export { defaultMetadata, loadInstrumentsFile, parseInstrumentsFile, toInstrumentsFile, MetadataCache, createFetchJson, type InstrumentFileEntry } from './metadata.js';
