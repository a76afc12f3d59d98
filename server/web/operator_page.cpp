#include "web/operator_page.hpp"

#include "operator_actions.hpp"

#include <cstdio>
#include <exception>
#include <optional>
#include <vector>

namespace ipp3d::server {
namespace {

// Writes HTML-escaped text.
void put_text(pappl_client_t* client, const std::string& text) {
  papplClientHTMLEscape(client, text.c_str(), text.size());
}

// Performs the posted action; returns the banner text.
std::string perform(PrinterRuntime& printer, int count, cups_option_t* form, pappl_client_t* client) {
  const char* action = cupsGetOption("action", count, form);
  Requester who = requester_of(client);
  if (who.user.empty()) who.user = "web admin";
  if (action == nullptr) return "No action given.";
  const std::string what = action;
  Status done;
  std::string success;
  if (what == "load") {
    const char* key = cupsGetOption("material-key", count, form);
    if (key == nullptr) return "Choose a material to load.";
    done = load_material_for(printer, key, who);
    success = std::string("Loaded ") + key + ".";
  } else if (what == "unload") {
    done = unload_material_for(printer, who);
    success = "Material unloaded.";
  } else if (what == "plate") {
    done = confirm_plate_clear_for(printer, who);
    success = "Build plate confirmed clear.";
  } else if (what == "pause") {
    done = suspend_current_print(printer, who);
    success = "Print paused.";
  } else if (what == "resume") {
    done = resume_current_print(printer, std::nullopt, who);
    success = "Print resumed.";
  } else if (what == "emergency-stop") {
    done = emergency_stop_printer(printer, who);
    success = "Emergency stop sent: the machine halts and needs a restart.";
  } else {
    return "Unknown action.";
  }
  if (!done) return done.error().message;
  papplLogPrinter(printer.printer(), PAPPL_LOGLEVEL_INFO, "Operator page: %s (by \"%s\")", success.c_str(),
                  who.user.c_str());
  return success;
}

// What the table of jobs needs while PAPPL iterates them.
struct QueueContext {
  pappl_client_t* client;
  PrinterRuntime& printer;
};

// "28 layers, est. 0:42, 1.2 m filament, 210/60 °C, signed by alice" for a verified job.
std::string facts_text(const VerifiedDocument& document) {
  const gcode::Facts& facts = document.facts;
  const long seconds = static_cast<long>(facts.estimate_s());
  char text[160];
  const int written =
      std::snprintf(text, sizeof text, "%llu layers, est. %ld:%02ld, %.1f m filament, %d/%d °C",
                    static_cast<unsigned long long>(facts.layer_count), seconds / 3600, seconds / 60 % 60,
                    facts.filament_mm / 1000.0, facts.max_hotend_temp, facts.max_bed_temp);
  std::string result = written > 0 ? text : "";
  if (!document.signer_name.empty()) result += ", signed by " + document.signer_name;
  if (document.licence) {
    result +=
        ", licence " + document.licence->id + " (" + std::to_string(document.licence->copies) + " copies)";
  }
  return result;
}

// One row of the waiting-jobs table.
void job_row(pappl_job_t* job, void* data) {
  auto* context = static_cast<QueueContext*>(data);
  pappl_client_t* client = context->client;
  papplClientHTMLPrintf(client, "<tr><td>%d</td><td>", papplJobGetID(job));
  const char* name = papplJobGetName(job);
  put_text(client, name != nullptr ? name : "");
  papplClientHTMLPuts(client, "</td><td>");
  const char* message = papplJobGetMessage(job);
  put_text(client, message != nullptr ? message : "");
  papplClientHTMLPuts(client, "</td><td>");
  const auto document = context->printer.intake().accepted(papplJobGetID(job));
  put_text(client, document ? facts_text(*document) : "");
  papplClientHTMLPuts(client, "</td></tr>\n");
}

// A form with one button posting `action`.
void action_button(pappl_client_t* client, const char* action, const char* label) {
  papplClientHTMLStartForm(client, papplClientGetURI(client), false);
  papplClientHTMLPrintf(client,
                        "<input type=\"hidden\" name=\"action\" value=\"%s\">"
                        "<input type=\"submit\" value=\"%s\"></form>\n",
                        action, label);
}

// "210 / 210 °C" for a current and target temperature.
std::string temperature_text(double current, double target) {
  char text[64];
  const int written = std::snprintf(text, sizeof text, "%.0f / %.0f °C", current, target);
  return written > 0 ? text : "";
}

// The machine section: status, temperatures, and the print control buttons.
void machine_section(pappl_client_t* client, PrinterRuntime& printer) {
  const MachineView view = printer.machine_view();
  papplClientHTMLPuts(client, "<h2 class=\"title\">Machine</h2>\n<p>Status: <b>");
  put_text(client, view.message.empty() ? "Not known yet." : view.message);
  papplClientHTMLPuts(client, "</b> (");
  put_text(client, view.state);
  papplClientHTMLPuts(client, ")</p>\n");
  if (view.temperatures) {
    const Temperatures& t = *view.temperatures;
    papplClientHTMLPuts(client, "<table class=\"list\"><tbody><tr><th>Hotend</th><td>");
    put_text(client, temperature_text(t.hotend, t.hotend_target));
    papplClientHTMLPuts(client, "</td></tr><tr><th>Bed</th><td>");
    put_text(client, temperature_text(t.bed, t.bed_target));
    papplClientHTMLPuts(client, "</td></tr></tbody></table>\n");
  } else {
    papplClientHTMLPuts(client, "<p>Temperatures: not known.</p>\n");
  }
  if (const auto current = printer.current_print()) {
    papplClientHTMLPrintf(client, "<p>Printing job %d.</p>\n", current->job_id);
  }
  action_button(client, "pause", "Pause the print");
  action_button(client, "resume", "Resume the print");
  action_button(client, "emergency-stop", "Emergency stop");
}

// The material and plate section with its forms.
void material_section(pappl_client_t* client, PrinterRuntime& printer) {
  const auto loaded = printer.loaded_material();
  papplClientHTMLPuts(client, "<h2 class=\"title\">Material</h2>\n<p>Loaded: <b>");
  put_text(client, loaded.value_or("nothing"));
  papplClientHTMLPuts(client, "</b></p>\n");
  papplClientHTMLStartForm(client, papplClientGetURI(client), false);
  papplClientHTMLPuts(client,
                      "<input type=\"hidden\" name=\"action\" value=\"load\"><select name=\"material-key\">");
  for (const auto& material : printer.config().materials) {
    papplClientHTMLPuts(client, "<option value=\"");
    put_text(client, material.key);
    papplClientHTMLPuts(client, loaded == material.key ? "\" selected>" : "\">");
    put_text(client, material.name + " (" + material.key + ")");
    papplClientHTMLPuts(client, "</option>");
  }
  papplClientHTMLPuts(client, "</select> <input type=\"submit\" value=\"Load material\"></form>\n");
  papplClientHTMLStartForm(client, papplClientGetURI(client), false);
  papplClientHTMLPuts(client,
                      "<input type=\"hidden\" name=\"action\" value=\"unload\">"
                      "<input type=\"submit\" value=\"Unload material\"></form>\n");
  papplClientHTMLPuts(client, "<h2 class=\"title\">Build plate</h2>\n<p>");
  papplClientHTMLPuts(client, printer.plate_clear() ? "Clear: the next job may start."
                                                    : "<b>Not confirmed clear</b>: the next job waits.");
  papplClientHTMLPuts(client, "</p>\n");
  papplClientHTMLStartForm(client, papplClientGetURI(client), false);
  papplClientHTMLPuts(client,
                      "<input type=\"hidden\" name=\"action\" value=\"plate\">"
                      "<input type=\"submit\" value=\"Confirm the build plate is clear\"></form>\n");
}

// PAPPL resource callback for the page.
bool operator_page(pappl_client_t* client, void* data) {
  auto* printer = static_cast<PrinterRuntime*>(data);
  try {
    if (!papplClientHTMLAuthorize(client)) return true;
    std::string banner;
    if (papplClientGetMethod(client) == HTTP_STATE_POST) {
      cups_option_t* form = nullptr;
      const int count = papplClientGetForm(client, &form);
      if (count == 0) {
        banner = "Invalid form data.";
      } else if (!papplClientIsValidForm(client, count, form)) {
        banner = "Invalid form submission.";
      } else {
        banner = perform(*printer, count, form, client);
      }
      cupsFreeOptions(count, form);
    }
    papplClientHTMLPrinterHeader(client, printer->printer(), "Operator", 0, nullptr, nullptr);
    if (!banner.empty()) {
      papplClientHTMLPuts(client, "<div class=\"banner\">");
      put_text(client, banner);
      papplClientHTMLPuts(client, "</div>\n");
    }
    machine_section(client, *printer);
    material_section(client, *printer);
    papplClientHTMLPuts(client,
                        "<h2 class=\"title\">Queue</h2>\n<table class=\"list\"><thead><tr><th>Job</th>"
                        "<th>Name</th><th>Status</th><th>Document</th></tr></thead><tbody>\n");
    QueueContext context{client, *printer};
    papplPrinterIterateActiveJobs(printer->printer(), job_row, &context, 1, 0);
    papplClientHTMLPuts(client, "</tbody></table>\n");
    papplClientHTMLPrinterFooter(client);
  } catch (const std::exception& e) {
    papplLogClient(client, PAPPL_LOGLEVEL_ERROR, "Operator page failed: %s", e.what());
  }
  return true;
}

}  // namespace

std::string operator_page_path(const PrinterRuntime& printer) { return "/" + printer.name() + "/operator"; }

void add_operator_page(pappl_system_t* system, PrinterRuntime& printer) {
  const std::string path = operator_page_path(printer);
  papplSystemAddResourceCallback(system, path.c_str(), "text/html", operator_page, &printer);
  papplPrinterAddLink(printer.printer(), "Operator", path.c_str(),
                      PAPPL_LOPTIONS_NAVIGATION | PAPPL_LOPTIONS_STATUS);
  // A 3D printer has no media to set up.
  papplPrinterRemoveLink(printer.printer(), "Media");
}

}  // namespace ipp3d::server
