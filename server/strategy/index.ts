/** Public surface of the strategy (see docs/INTERFACES.md "server/strategy"). */
export { StrategyRunner, PositionNotFoundError, type StrategyRunnerOptions } from './runner.js';
export {
  PaperExecutor,
  walkBook,
  ORDER_FAILURES,
  type Executor,
  type OrderRequest,
  type ExecutionReport,
  type OrderFailure,
  type BookLevel,
} from './execution.js';
export type { StrategyEngine, StrategyQuote } from './engine-view.js';
export { REJECTION_REASONS, type RejectionReason } from './entry-rules.js';
