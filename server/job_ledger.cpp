#include "job_ledger.hpp"

#include <ctime>

namespace ipp3d::server {

void record_job(pappl_job_t* job, PrinterRuntime& printer, int state_override) {
  JobRecord entry = printer.store().job(printer.name(), papplJobGetID(job)).value_or(JobRecord{});
  entry.printer = printer.name();
  entry.job_id = papplJobGetID(job);
  entry.name = papplJobGetName(job) != nullptr ? papplJobGetName(job) : "";
  entry.user = papplJobGetUsername(job) != nullptr ? papplJobGetUsername(job) : "";
  entry.state = state_override != 0 ? state_override : static_cast<int>(papplJobGetState(job));
  entry.message = papplJobGetMessage(job) != nullptr ? papplJobGetMessage(job) : "";
  entry.created = static_cast<std::int64_t>(papplJobGetTimeCreated(job));
  if (entry.state >= IPP_JSTATE_CANCELED && entry.completed == 0) {
    entry.completed = static_cast<std::int64_t>(std::time(nullptr));
  }
  entry.impressions = papplJobGetImpressions(job);
  entry.impressions_completed = papplJobGetImpressionsCompleted(job);
  if (entry.material_key.empty()) entry.material_key = printer.loaded_material().value_or("");
  if (auto saved = printer.store().save_job(entry); !saved) {
    papplLogJob(job, PAPPL_LOGLEVEL_ERROR, "Job ledger: %s", saved.error().message.c_str());
  }
}

}  // namespace ipp3d::server
