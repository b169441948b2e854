export {
  balanceDw,
  balancePw,
  balanceLayer,
  dwBudget,
  keptPerGroup,
  keptInGroup,
  DEFAULT_GROUP_SIZE,
} from './balance';
export type { BalanceDwOptions, BalancePwOptions } from './balance';
export { balanceReport, workPerUnit, balanceUnitOf } from './report';
export type { BalanceReport, BalanceUnit } from './report';
