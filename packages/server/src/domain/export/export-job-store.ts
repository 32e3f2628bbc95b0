export type ExportStatus = 'running' | 'completed' | 'failed';

export interface ExportJobRecord {
  id: string;
  status: ExportStatus;
  requestedBy: string;
  createdAt: number;
  finishedAt: number | null;
  entitiesDone: number;
  entitiesTotal: number;
  rowsWritten: number;
  bytes: number | null;
  manifestSha256: string | null;
  error: string | null;
}

export interface ExportJobStore {
  insert(job: ExportJobRecord): Promise<void>;
  get(id: string): Promise<ExportJobRecord | undefined>;
  update(id: string, changes: Partial<Omit<ExportJobRecord, 'id' | 'requestedBy' | 'createdAt'>>): Promise<void>;
}
