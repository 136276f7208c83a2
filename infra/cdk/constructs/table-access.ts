import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';

/** The item operations our handlers perform (no Scan, no batch, no transactions, no streams). */
export type TableAction =
  | 'dynamodb:GetItem'
  | 'dynamodb:PutItem'
  | 'dynamodb:UpdateItem'
  | 'dynamodb:DeleteItem'
  | 'dynamodb:Query';

/**
 * Grants actions on the table itself and nothing else. `TableV2.grant` would add `<table>/index/*` as
 * soon as the table has an index, handing every handler the watchdog's index too.
 * @example grantTable(handler, table, 'dynamodb:GetItem')
 */
export function grantTable(grantee: IGrantable, table: ITableV2, ...actions: TableAction[]): Grant {
  return Grant.addToPrincipal({ grantee, actions, resourceArns: [table.tableArn] });
}

/** Grants Query on one named index of the table. */
export function grantIndexQuery(grantee: IGrantable, table: ITableV2, indexName: string): Grant {
  return Grant.addToPrincipal({
    grantee,
    actions: ['dynamodb:Query'],
    resourceArns: [`${table.tableArn}/index/${indexName}`],
  });
}
