/** Public surface of the engine (see docs/INTERFACES.md "server/engine"). */
export { Engine, type EngineCounters, type EngineOptions, type FundingView, type QuoteView } from './engine.js';
export { type AcceptedRecordListener } from './accepted-records.js';
export { BroadcastRing, type Subscription, type SubscriberStats } from './bus.js';
export { InstrumentMap, EXCHANGE_COUNT, exchangeIndex } from './instruments.js';
export { MarketStore } from './market-store.js';
export { MarketPipeline, RECORD_BYTES, type PipelineBuffers, type RecordSink, type RecordVisitor } from './pipeline.js';
export { Detector, type DetectorCounters } from './detector.js';
export { type LatencyBuckets, LatencyHistogram, type LatencySummary } from './histogram.js';
export { REJECT_REASONS, type RejectReason } from './sanity.js';
export { QUARANTINE_REASONS, type QuarantineReason, type QuarantineStats } from './quarantine.js';
export { nowUs } from './clock.js';
export * as scoring from './scoring.js';
export type { BaseQuote } from './instruments.js';
