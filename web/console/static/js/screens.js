// The console's screens, in the order of the navigation.
import { reconciliation, activity } from './screens-money.js';
import { accounts, devices, revocations, codes } from './screens-people.js';
import { doubleSpends, outbox } from './screens-ops.js';

export const screens = [
  { id: 'reconciliation', title: 'Reconciliation', render: reconciliation },
  { id: 'accounts', title: 'Accounts', render: accounts },
  { id: 'devices', title: 'Devices', render: devices },
  { id: 'double-spends', title: 'Double spends', render: doubleSpends },
  { id: 'revocations', title: 'Revocations', render: revocations },
  { id: 'codes', title: 'Codes', render: codes },
  { id: 'outbox', title: 'Outbox', render: outbox },
  { id: 'activity', title: 'Activity', render: activity },
];
