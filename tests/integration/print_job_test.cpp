// A signed (and an encrypted) G-code job prints to completion on the virtual
// printer with its layer progress visible in Get-Job-Attributes, the printer
// receives the verified plaintext byte for byte, and Cancel-Job stops a print
// within 2 s. Plain G-code prints only where signatures are not required.
#include "ipp_client.hpp"
#include "server_process.hpp"
#include "signing.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <set>

namespace ipp3d::testing {
namespace {

using namespace std::chrono_literals;

// Where the virtual printer keeps the upload of job `job_id` while printing it.
std::filesystem::path upload_path(const ServerProcess& server, int job_id) {
  return server.state_dir() / "virtual" / kPrinterName / "ipp" /
         (std::string(kPrinterName) + "-job-" + std::to_string(job_id) + ".gcode");
}

// What the test saw while a job was printing.
struct Observed {
  std::vector<int> impressions_completed;  // while processing, in order
  std::set<int> layers_in_messages;        // N of "layer N of 28"
  bool upload_compared = false;
  bool upload_identical = false;
  std::string upload_difference;  // why the upload differs, when it does
};

// "" when equal, else where `copy` first differs from `original`.
std::string difference(const std::string& original, const std::string& copy) {
  if (copy == original) return "";
  const auto diff = std::mismatch(original.begin(), original.end(), copy.begin(), copy.end());
  const auto at = static_cast<std::size_t>(diff.first - original.begin());
  return "sizes " + std::to_string(original.size()) + " (original) and " + std::to_string(copy.size()) +
         " (printer's copy), first difference at byte " + std::to_string(at) + ": original \"" +
         original.substr(at, 40) + "\" vs copy \"" + copy.substr(at, 40) + "\"";
}

// How the torus is sent.
enum class Packaging { kSigned, kEncrypted, kPlain };

// Prints the torus packaged as `packaging`, declared as `format`, and checks the whole flow.
void print_torus_to_completion(const std::string& format, Packaging packaging = Packaging::kSigned) {
  const TestConfig config(0.1, false, /*require_signature=*/packaging != Packaging::kPlain);
  ServerProcess server(IPP3D_SERVER_BINARY, config.args());
  ASSERT_GT(server.pid(), 0);
  HttpPtr http = connect_tls(server.port());
  ASSERT_TRUE(http) << cupsLastErrorString();
  const std::string uri = server.printer_uri(kPrinterName);
  const std::string original = read_file(torus_path());
  ASSERT_FALSE(original.empty());
  std::string document = original;
  if (packaging == Packaging::kSigned) document = sign_document(original);
  if (packaging == Packaging::kEncrypted) {
    const auto printer_key = printer_public_key(http.get(), uri);
    ASSERT_TRUE(printer_key.has_value());
    document = sign_document(original, [&](trust::SignOptions& o) { o.encrypt_to = *printer_key; });
  }

  const int job_id = print_job(http.get(), uri, document, format);
  ASSERT_GT(job_id, 0);

  Observed seen;
  const std::regex layer_message("layer ([0-9]+) of 28");
  bool reached = false;
  const JobStatus last = wait_for_job(
      http.get(), uri, job_id, [](const JobStatus& s) { return s.terminal(); }, 60s, reached,
      [&](const JobStatus& s) {
        if (s.state != IPP_JSTATE_PROCESSING) return;
        seen.impressions_completed.push_back(s.impressions_completed);
        std::smatch match;
        if (std::regex_search(s.message, match, layer_message)) {
          seen.layers_in_messages.insert(std::stoi(match[1].str()));
          EXPECT_EQ(s.impressions, kTorusLayers) << describe(s);
        }
        // The upload is renamed into place when complete: compare it while it exists.
        const auto upload = upload_path(server, job_id);
        if (!seen.upload_compared && s.impressions_completed > 0 && std::filesystem::exists(upload)) {
          seen.upload_compared = true;
          seen.upload_difference = difference(original, read_file(upload));
          seen.upload_identical = seen.upload_difference.empty();
        }
      });
  ASSERT_TRUE(reached) << describe(last) << "\n" << server.output();
  EXPECT_EQ(last.state, IPP_JSTATE_COMPLETED) << describe(last);
  EXPECT_EQ(last.impressions, kTorusLayers);
  // Exactly the layers: PAPPL 1.3.1 adds one impression after the print
  // callback returns, which the server compensates.
  EXPECT_EQ(last.impressions_completed, kTorusLayers);
  EXPECT_GE(last.time_at_processing, 0);
  EXPECT_GE(last.time_at_completed, last.time_at_processing);

  ASSERT_TRUE(seen.upload_compared) << "the upload " << upload_path(server, job_id) << " was never seen";
  EXPECT_TRUE(seen.upload_identical) << "the printer's copy differs from the submitted document: "
                                     << seen.upload_difference;

  // Progress was visible: several layers, counting up.
  EXPECT_GE(seen.layers_in_messages.size(), 3u) << "too few \"layer N of 28\" messages seen";
  EXPECT_TRUE(std::is_sorted(seen.impressions_completed.begin(), seen.impressions_completed.end()));
  const std::set<int> distinct(seen.impressions_completed.begin(), seen.impressions_completed.end());
  EXPECT_GE(std::count_if(distinct.begin(), distinct.end(), [](int n) { return n > 0 && n < kTorusLayers; }),
            2)
      << "job-impressions-completed did not increase while processing";
}

TEST(PrintJob, SignedTorusAsOctetStreamPrintsToCompletionWithLayerProgress) {
  print_torus_to_completion("application/octet-stream");
}

TEST(PrintJob, SignedTorusPrintsToCompletionWithLayerProgress) { print_torus_to_completion(kEnvelopeFormat); }

TEST(PrintJob, EncryptedTorusPrintsToCompletionAndThePrinterGetsThePlaintext) {
  print_torus_to_completion(kEnvelopeFormat, Packaging::kEncrypted);
}

TEST(PrintJob, PlainGcodePrintsWhereSignaturesAreNotRequired) {
  print_torus_to_completion("text/x-gcode", Packaging::kPlain);
}

TEST(PrintJob, CancelJobStopsThePrintWithinTwoSeconds) {
  const TestConfig config(0.5);
  ServerProcess server(IPP3D_SERVER_BINARY, config.args());
  ASSERT_GT(server.pid(), 0);
  HttpPtr http = connect_tls(server.port());
  ASSERT_TRUE(http) << cupsLastErrorString();
  const std::string uri = server.printer_uri(kPrinterName);

  const int job_id = print_job(http.get(), uri, signed_torus(), kEnvelopeFormat);
  ASSERT_GT(job_id, 0);
  bool printing = false;
  const JobStatus before = wait_for_job(
      http.get(), uri, job_id,
      [](const JobStatus& s) { return s.state == IPP_JSTATE_PROCESSING && s.impressions_completed >= 1; },
      30s, printing);
  ASSERT_TRUE(printing) << describe(before);

  IppPtr cancel = send_request(http.get(), new_job_request(IPP_OP_CANCEL_JOB, uri, job_id));
  const auto returned = std::chrono::steady_clock::now();
  ASSERT_EQ(status_of(cancel), IPP_STATUS_OK) << cupsLastErrorString();

  bool ended = false;
  const JobStatus after = wait_for_job(
      http.get(), uri, job_id, [](const JobStatus& s) { return s.terminal(); }, 10s, ended);
  const auto took = std::chrono::steady_clock::now() - returned;
  ASSERT_TRUE(ended) << describe(after);
  EXPECT_EQ(after.state, IPP_JSTATE_CANCELED) << describe(after);
  EXPECT_LE(took, 2s) << "canceled after "
                      << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms";
  EXPECT_LT(after.impressions_completed, kTorusLayers) << describe(after);
}

}  // namespace
}  // namespace ipp3d::testing
