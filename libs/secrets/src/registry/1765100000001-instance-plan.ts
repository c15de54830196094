import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

/** `secret_instances.plan_id`: the plan that sets the instance's quotas (null: registered before plans were recorded). */
export class InstancePlan1765100000001 implements MigrationInterface {
  name = 'InstancePlan1765100000001';

  async up(runner: QueryRunner): Promise<void> {
    await runner.addColumn('secret_instances', new TableColumn({ name: 'plan_id', type: 'varchar', length: '128', isNullable: true }));
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.dropColumn('secret_instances', 'plan_id');
  }
}
