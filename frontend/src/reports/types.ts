/** The weekly report as the API returns it (types only; the backend's contract is the source). */
export type { WeeklyReport, ReportSection, ReportSectionId, ReportMetric, ReportTable, ReportChart, ReportSummary } from '@siyu-pulse/contracts/reports';
