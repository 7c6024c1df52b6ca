import { Injectable, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';

/**
 * What kind of database the API talks to, read once at start. On a Citus coordinator a
 * few statements take another shape (README, "Scale out on Citus"): one server keeps its
 * one-round-trip forms.
 */
@Injectable()
export class DatabaseTopology implements OnModuleInit {
  /** The `citus` extension exists: tables are distributed over worker nodes. */
  citus = false;

  constructor(private readonly dataSource: DataSource) {}

  async onModuleInit(): Promise<void> {
    const [row] = await this.dataSource.query(
      `SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') AS citus`,
    );
    this.citus = row.citus === true;
  }
}
