// status, jobs, job, cancel and materials: text or --json output.
#include "queue_commands.hpp"

#include <nlohmann/json.hpp>

#include <iomanip>
#include <iostream>

namespace ipp3d::client {
namespace {

using nlohmann::json;

constexpr const char* kExitFooter =
    "Exit status: 0 done, 1 refused by the printer (e.g. unknown job), 2 usage error, 3 printer "
    "unreachable,\n"
    "4 credentials missing or refused, 5 certificate does not match the pin.";

json job_json(const JobInfo& job) {
  json j = {{"id", job.id},           {"name", job.name},
            {"user", job.user},       {"state", job_state_name(job.state)},
            {"reasons", job.reasons}, {"message", job.message},
            {"copies", job.copies}};
  if (job.impressions >= 0) j["layers_total"] = job.impressions;
  if (job.impressions_completed >= 0) j["layers_done"] = job.impressions_completed;
  return j;
}

json range_json(const attributes::IntegerOrRange& value) {
  if (!value.is_range) return value.lower;
  return json::array({value.lower, value.upper});
}

json material_json(const attributes::Material& m) {
  json j = json::object();
  if (m.material_key) j["key"] = *m.material_key;
  if (m.material_name) j["name"] = *m.material_name;
  if (m.material_type) j["type"] = *m.material_type;
  if (m.material_color) j["color"] = *m.material_color;
  if (m.material_temperature) j["temperature"] = range_json(*m.material_temperature);
  if (m.material_diameter) j["diameter_nm"] = *m.material_diameter;
  return j;
}

// "PLA (pla), 190-220 °C".
std::string material_text(const attributes::Material& m) {
  std::string text = m.label();
  if (m.material_key && m.material_name) text += " [" + *m.material_key + "]";
  if (m.material_type) text += ", " + *m.material_type;
  if (m.material_temperature) text += ", " + m.material_temperature->to_string() + " °C";
  return text;
}

// "layer 3/28" or "".
std::string progress_text(const JobInfo& job) {
  if (job.impressions <= 0 || job.impressions_completed < 0) return "";
  return std::to_string(job.impressions_completed) + "/" + std::to_string(job.impressions);
}

std::string joined(const std::vector<std::string>& words) {
  std::string text;
  for (const auto& word : words) text += (text.empty() ? "" : ",") + word;
  return text;
}

void print_job_table(const std::vector<JobInfo>& jobs) {
  if (jobs.empty()) {
    std::cout << "no jobs\n";
    return;
  }
  std::cout << std::left << std::setw(6) << "ID" << std::setw(11) << "STATE" << std::setw(12) << "USER"
            << std::setw(24) << "NAME" << std::setw(9) << "LAYERS"
            << "MESSAGE\n";
  for (const JobInfo& job : jobs) {
    std::cout << std::left << std::setw(6) << job.id << std::setw(11) << job_state_name(job.state)
              << std::setw(12) << job.user.substr(0, 11) << std::setw(24) << job.name.substr(0, 23)
              << std::setw(9) << progress_text(job) << job.message << "\n";
  }
}

int run_status(const QueueOptions& o) {
  auto printer = open_printer(o.remote);
  if (!printer) return report("status", printer.error());
  auto status = printer->status();
  if (!status) return report("status", status.error());
  auto jobs = printer->jobs(false);
  if (!jobs) return report("status", jobs.error());
  if (o.remote.json) {
    json j = {{"printer", status->name},
              {"state", printer_state_name(status->state)},
              {"reasons", status->reasons},
              {"message", status->message},
              {"machine_state", status->machine_state},
              {"accepting_jobs", status->accepting},
              {"loaded_materials", json::array()},
              {"queue", json::array()}};
    for (const auto& m : status->ready) j["loaded_materials"].push_back(material_json(m));
    for (const auto& job : *jobs) j["queue"].push_back(job_json(job));
    std::cout << j.dump(2) << "\n";
    return kExitOk;
  }
  std::cout << status->name << ": " << printer_state_name(status->state) << " (" << joined(status->reasons)
            << ")" << (status->accepting ? "" : ", not accepting jobs") << "\n";
  if (!status->message.empty()) std::cout << "message: " << status->message << "\n";
  if (!status->machine_state.empty()) std::cout << "machine: " << status->machine_state << "\n";
  std::cout << "loaded: ";
  if (status->ready.empty()) std::cout << "nothing";
  for (std::size_t i = 0; i < status->ready.size(); ++i)
    std::cout << (i > 0 ? "; " : "") << material_text(status->ready[i]);
  std::cout << "\nqueue: " << jobs->size() << " job(s)\n";
  if (!jobs->empty()) print_job_table(*jobs);
  return kExitOk;
}

int run_jobs(const QueueOptions& o) {
  auto printer = open_printer(o.remote);
  if (!printer) return report("jobs", printer.error());
  auto jobs = printer->jobs(o.all);
  if (!jobs) return report("jobs", jobs.error());
  if (o.remote.json) {
    json j = json::array();
    for (const auto& job : *jobs) j.push_back(job_json(job));
    std::cout << j.dump(2) << "\n";
  } else {
    print_job_table(*jobs);
  }
  return kExitOk;
}

int run_job(const QueueOptions& o) {
  auto printer = open_printer(o.remote);
  if (!printer) return report("job", printer.error());
  auto job = printer->job(o.job_id);
  if (!job) return report("job", job.error());
  if (o.remote.json) {
    std::cout << job_json(*job).dump(2) << "\n";
    return kExitOk;
  }
  std::cout << "job " << job->id << ": " << job_state_name(job->state) << "\n  name: " << job->name
            << "\n  user: " << job->user << "\n  reasons: " << joined(job->reasons) << "\n";
  if (!progress_text(*job).empty()) std::cout << "  layers: " << progress_text(*job) << "\n";
  if (!job->message.empty()) std::cout << "  message: " << job->message << "\n";
  return kExitOk;
}

int run_cancel(const QueueOptions& o) {
  auto printer = open_printer(o.remote);
  if (!printer) return report("cancel", printer.error());
  if (Status cancelled = printer->cancel(o.job_id); !cancelled) return report("cancel", cancelled.error());
  std::cout << "job " << o.job_id << " canceled\n";
  return kExitOk;
}

int run_materials(const QueueOptions& o) {
  auto printer = open_printer(o.remote);
  if (!printer) return report("materials", printer.error());
  auto caps = printer->capabilities();
  if (!caps) return report("materials", caps.error());
  const auto is_ready = [&](const attributes::Material& m) {
    for (const auto& ready : caps->model.materials_col_ready) {
      if (ready.material_key == m.material_key) return true;
    }
    return false;
  };
  if (o.remote.json) {
    json j = json::array();
    for (const auto& m : caps->model.materials_col_database) {
      json entry = material_json(m);
      entry["loaded"] = is_ready(m);
      j.push_back(entry);
    }
    std::cout << j.dump(2) << "\n";
    return kExitOk;
  }
  for (const auto& m : caps->model.materials_col_database) {
    std::cout << (is_ready(m) ? "* " : "  ") << material_text(m) << "\n";
  }
  std::cout << "(* loaded)\n";
  return kExitOk;
}

// A command that takes a URI and a job ID.
CLI::App* add_job_command(CLI::App& app, const char* name, const char* help, QueueOptions& o,
                          bool with_json) {
  CLI::App* command = app.add_subcommand(name, help);
  add_remote_options(*command, o.remote, with_json);
  command->add_option("id", o.job_id, "job-id")->required()->check(CLI::PositiveNumber);
  command->footer(kExitFooter);
  return command;
}

}  // namespace

void add_queue_commands(CLI::App& app, QueueCommands& c) {
  c.status = app.add_subcommand("status", "Show the printer's state, loaded materials and queue.");
  add_remote_options(*c.status, c.status_options.remote, true);
  c.status->footer(kExitFooter);
  c.jobs = app.add_subcommand("jobs", "List the printer's jobs (not completed; --all for every job).");
  add_remote_options(*c.jobs, c.jobs_options.remote, true);
  c.jobs->add_flag("--all", c.jobs_options.all, "include ended jobs");
  c.jobs->footer(kExitFooter);
  c.job = add_job_command(app, "job", "Show one job.", c.job_options, true);
  c.cancel = add_job_command(app, "cancel", "Cancel a job.", c.cancel_options, false);
  c.materials = app.add_subcommand("materials", "List the printer's materials database (* = loaded).");
  add_remote_options(*c.materials, c.materials_options.remote, true);
  c.materials->footer(kExitFooter);
}

std::optional<int> run_queue_command(const QueueCommands& c) {
  if (c.status->parsed()) return run_status(c.status_options);
  if (c.jobs->parsed()) return run_jobs(c.jobs_options);
  if (c.job->parsed()) return run_job(c.job_options);
  if (c.cancel->parsed()) return run_cancel(c.cancel_options);
  if (c.materials->parsed()) return run_materials(c.materials_options);
  return std::nullopt;
}

}  // namespace ipp3d::client
