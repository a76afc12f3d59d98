// `ipp3d check FILE --printer URI` gives exactly the server's verdict: for
// the shared samples and for crafted files (a bed too hot for the material,
// a move outside the volume, a ticket's platform temperature the G-code does
// not use, clamped or not), each with a material and platform temperature,
// the client's report is compared with what the real server does with the
// same signed document and ticket: accepted (the job is held as requested),
// or canceled with "Unprintable: " + the same first violation (line,
// command, rule, message, value, limit) and the same count.
#include "ipp3d/gcode/report.hpp"

#include "ipp_client.hpp"
#include "server_process.hpp"
#include "signing.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace ipp3d::testing {
namespace {

using namespace std::chrono_literals;

// One file with the ticket it is checked and submitted with.
struct Case {
  std::string name;
  std::string gcode;
  std::string material;                     // material-key; empty: the loaded one (PLA)
  std::optional<int> platform_temperature;  // °C
};

// What one side decided: accepted, or the refusal message as the server words it.
struct Decision {
  bool accepted = false;
  std::string message;  // "Unprintable: line N: ..." when refused
};

// The torus with `line` inserted as its second line.
std::string torus_with(const std::string& line) {
  std::string gcode = read_file(torus_path());
  gcode.insert(gcode.find('\n') + 1, line + "\n");
  return gcode;
}

// The server's refusal message for a client report (--json): the first
// violation as gcode::describe() writes it, and how many more there are.
Decision client_decision(const std::string& output) {
  const auto json = nlohmann::json::parse(output.substr(output.find("{\n")));
  Decision decision{json["accepted"].get<bool>(), {}};
  if (decision.accepted) return decision;
  const auto& first = json["violations"].at(0);
  gcode::Violation violation{first["line"].get<std::uint64_t>(), first["command"].get<std::string>(),
                             first["rule"].get<std::string>(),   first["value"].get<std::string>(),
                             first["limit"].get<std::string>(),  first["message"].get<std::string>()};
  decision.message = "Unprintable: " + gcode::describe(violation);
  const auto count = json["violation_count"].get<std::size_t>();
  if (count > 1) {
    decision.message += " (and " + std::to_string(count - 1) + " more; `ipp3d check` lists them)";
  }
  return decision;
}

class CheckAgreement : public ::testing::Test {
 protected:
  CheckAgreement() : config_(0.02), server_(IPP3D_SERVER_BINARY, config_.args()) {}

  std::string uri() const { return server_.printer_uri(kPrinterName); }

  // `ipp3d check FILE --printer URI --json` with the case's ticket.
  Decision check(const Case& c) const {
    const auto file = dir_.path() / (c.name + ".gcode");
    write_bytes(file, c.gcode);
    std::vector<std::string> argv = {"env",
                                     "IPP3D_CONFIG_DIR=" + (dir_.path() / "config").string(),
                                     IPP3D_CLIENT_BINARY,
                                     "check",
                                     file.string(),
                                     "--printer",
                                     uri(),
                                     "--json"};
    if (!c.material.empty()) argv.insert(argv.end(), {"--material", c.material});
    if (c.platform_temperature) {
      argv.insert(argv.end(), {"--platform-temperature", std::to_string(*c.platform_temperature)});
    }
    std::string output;
    const int status = run_command(argv, output);
    EXPECT_TRUE(status == 0 || status == 1) << c.name << ": " << output;
    if (status != 0 && status != 1) return {};
    EXPECT_EQ(output.find("note:"), std::string::npos) << c.name << ": " << output;
    return client_decision(output);
  }

  // The server's decision on the signed file with the case's ticket: the job
  // is submitted held, so an accepted file waits "Held as requested".
  Decision submit(const Case& c) const {
    HttpPtr http = connect_tls(server_.port());
    const int job_id =
        print_job(http.get(), uri(), sign_document(c.gcode), kEnvelopeFormat, [&](ipp_t* request) {
          ippAddString(request, IPP_TAG_JOB, IPP_TAG_KEYWORD, "job-hold-until", nullptr, "indefinite");
          if (!c.material.empty()) add_material_key(request, c.material);
          if (c.platform_temperature) {
            ippAddInteger(request, IPP_TAG_JOB, IPP_TAG_INTEGER, "platform-temperature",
                          *c.platform_temperature);
          }
        });
    EXPECT_GT(job_id, 0) << c.name;
    if (job_id <= 0) return {};
    bool decided = false;
    const JobStatus status = wait_for_job(
        http.get(), uri(), job_id,
        [](const JobStatus& s) {
          return s.terminal() || s.message.find("Held as requested") != std::string::npos;
        },
        60s, decided);
    EXPECT_TRUE(decided) << c.name << ": " << describe(status);
    if (!status.terminal()) {
      send_request(http.get(), new_job_request(IPP_OP_CANCEL_JOB, uri(), job_id));
      return {true, {}};
    }
    EXPECT_TRUE(status.has_reason("document-unprintable-error")) << c.name << ": " << describe(status);
    return {false, status.message};
  }

  // Checks and submits `c`; both decisions must be the same.
  void expect_agreement(const Case& c, bool expect_accepted) const {
    const Decision client = check(c);
    const Decision server = submit(c);
    EXPECT_EQ(client.accepted, server.accepted)
        << c.name << "\nclient: " << client.message << "\nserver: " << server.message;
    EXPECT_EQ(client.message, server.message) << c.name;
    EXPECT_EQ(server.accepted, expect_accepted) << c.name << ": " << server.message;
  }

  TempDir dir_;
  TestConfig config_;
  ServerProcess server_;
};

TEST_F(CheckAgreement, OnTheSharedSamples) {
  const std::string torus = read_file(torus_path());
  const std::string box = read_file(sample_path("box-prusaslicer-marlin.gcode"));
  const std::string bunny = read_file(sample_path("bunny-prusaslicer-klipper.gcode"));
  expect_agreement({"torus-pla", torus, "pla-generic", std::nullopt}, true);
  expect_agreement({"torus-loaded", torus, "", 60}, true);
  expect_agreement({"torus-petg", torus, "petg-generic", std::nullopt}, false);  // bed 60 °C: PETG's is 70-90
  expect_agreement({"box-petg", box, "petg-generic", 80}, true);
  expect_agreement({"box-loaded", box, "", std::nullopt}, false);  // 245 °C hotend: PLA's is 190-230
  expect_agreement({"bunny-pla", bunny, "pla-generic", std::nullopt}, true);
}

TEST_F(CheckAgreement, OnCraftedRefusedFiles) {
  // 80 °C is within the printer's bed (0-110) but not PLA's (50-70).
  expect_agreement({"bed-too-hot", torus_with("M140 S80"), "pla-generic", std::nullopt}, false);
  expect_agreement({"bed-too-hot-loaded", torus_with("M190 S75"), "", std::nullopt}, false);
  expect_agreement({"outside-volume", torus_with("G1 X300 Y10 F3000"), "pla-generic", std::nullopt}, false);
  // The ticket asks 90 °C: the server clamps it into the bed range of the
  // ticket's material, else of the loaded one (PLA, 50-70 °C) — 70, which the
  // torus (60 °C) does not use; a torus heating the bed to 70 °C matches it.
  expect_agreement({"ticket-clamped", read_file(torus_path()), "pla-generic", 90}, false);
  expect_agreement({"ticket-clamped-loaded", read_file(torus_path()), "", 90}, false);
  expect_agreement({"ticket-clamped-matching", torus_with("M140 S70"), "", 90}, true);
  expect_agreement({"ticket-matching", read_file(torus_path()), "pla-generic", 60}, true);
}

}  // namespace
}  // namespace ipp3d::testing
