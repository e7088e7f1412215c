/** The in-memory ledger passes the LedgerPort contract its DynamoDB twin passes (test/aws/rollout-ledger.test.ts). */
import { MemoryLedger } from '../../sim/memory';
import { describeLedgerContract } from '../contract/ledger-contract';

describeLedgerContract('MemoryLedger', async () => new MemoryLedger());
