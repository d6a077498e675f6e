// Evaluation outputs: rows.csv, pareto.csv, report.json, summary.md and SVG plots.
#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "disc/eval.hpp"
#include "eval/report_json.hpp"

namespace disc {
namespace {

constexpr double kBudgetsPp[] = {1.0, 0.5};

std::string csv_quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

Status write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  if (!out) return Error("cannot write '" + path.string() + "'");
  return Status();
}

// Without labels the accuracy columns are left empty: they would read as a loss of 0.
std::string rows_csv(const std::vector<EvalRow>& rows, bool labelled) {
  std::string s =
      "cut,cut_position,shape,codec,codec_name,mean_bytes,ratio,bits_per_element,top1,top5,top1_loss_pp,"
      "top5_loss_pp,agreement,mean_kl,estimated_loss_pp,estimated_loss_se_pp,encode_ms,decode_ms,estimate_temperature,estimate_temperature_fitted,"
      "estimate_temperature_from_sweep\n";
  for (const EvalRow& r : rows) {
    const std::string accuracy =
        labelled ? fmt::format("{:.5f},{:.5f},{:.3f},{:.3f}", r.top1, r.top5, r.top1_loss_pp, r.top5_loss_pp) : ",,,";
    s += fmt::format("{},{},{},{},{},{:.1f},{:.3f},{:.5f},{},{:.5f},{:.6f},{:.4f},{:.4f},{:.4f},{:.4f},{:.4f},{:d},{:d}\n",
                     csv_quote(r.cut), r.cut_position, shape_to_string(r.shape), csv_quote(r.codec), r.codec_name,
                     r.mean_bytes, r.ratio, r.bits_per_element, accuracy, r.agreement, r.mean_kl,
                     r.estimated_loss_pp, r.estimated_loss_se_pp, r.encode_ms, r.decode_ms, r.estimate_temperature,
                     static_cast<int>(r.estimate_temperature_fitted),
                     static_cast<int>(r.estimate_temperature_from_sweep));
  }
  return s;
}

// A measured accuracy, or null where the images had no labels.
nlohmann::json accuracy(bool labelled, double value) { return labelled ? nlohmann::json(value) : nlohmann::json(); }

}  // namespace

nlohmann::json report_json(const EvalReport& report) {
  nlohmann::json rows = nlohmann::json::array();
  for (const EvalRow& r : report.rows)
    rows.push_back({{"cut", r.cut},
                    {"cut_position", r.cut_position},
                    {"shape", r.shape},
                    {"codec", r.codec},
                    {"mean_bytes", r.mean_bytes},
                    {"ratio", r.ratio},
                    {"bits_per_element", r.bits_per_element},
                    {"top1", accuracy(report.labelled, r.top1)},
                    {"top5", accuracy(report.labelled, r.top5)},
                    {"top1_loss_pp", accuracy(report.labelled, r.top1_loss_pp)},
                    {"top5_loss_pp", accuracy(report.labelled, r.top5_loss_pp)},
                    {"agreement", r.agreement},
                    {"mean_kl", r.mean_kl},
                    {"estimated_loss_pp", r.estimated_loss_pp},
                    {"estimated_loss_se_pp", r.estimated_loss_se_pp},
                    {"estimate_temperature", r.estimate_temperature},
                    {"estimate_temperature_fitted", r.estimate_temperature_fitted},
                    {"estimate_temperature_from_sweep", r.estimate_temperature_from_sweep},
                    {"encode_ms", r.encode_ms},
                    {"decode_ms", r.decode_ms}});
  return {{"model", report.model},
          {"images", report.images},
          {"first_image", report.first_image},
          {"chunks", report.chunks},
          {"labelled", report.labelled},
          {"reference_top1", accuracy(report.labelled, report.reference_top1)},
          {"reference_top5", accuracy(report.labelled, report.reference_top5)},
          {"skipped", report.skipped},
          {"rows", rows}};
}

namespace {

// Per cut: best ratio at the budget for each codec, and DISC's margin over the best baseline.
std::string budget_table(const EvalReport& report, double budget_pp) {
  const LossBasis basis = report.loss_basis();
  const std::vector<EvalRow> best = best_within_budget(report.rows, budget_pp, basis);
  std::set<std::string> codecs;
  for (const EvalRow& r : report.rows) codecs.insert(r.codec_name);
  std::map<std::string, std::map<std::string, const EvalRow*>> by_cut;  // cut -> codec -> row
  std::vector<std::string> cut_order;
  for (const EvalRow& r : best) {
    if (!by_cut.count(r.cut)) cut_order.push_back(r.cut);
    by_cut[r.cut][r.codec_name] = &r;
  }
  std::string s = fmt::format("\n### Best ratio at ≤ {:.1f} pp top-1 loss{}\n\n| cut | shape |", budget_pp,
                              basis == LossBasis::kLabels ? "" : " (estimated, plus one standard error)");
  for (const std::string& c : codecs) s += " " + c + " |";
  s += " DISC / best baseline |\n|---|---|";
  for (size_t i = 0; i <= codecs.size(); ++i) s += "---|";
  s += "\n";
  for (const std::string& cut : cut_order) {
    const auto& row = by_cut[cut];
    s += fmt::format("| `{}` | {} |", cut, shape_to_string(row.begin()->second->shape));
    double best_baseline = 0;
    for (const std::string& c : codecs) {
      auto it = row.find(c);
      if (it == row.end()) {
        s += " — |";
        continue;
      }
      s += fmt::format(" {:.1f}× / {:.2f} |", it->second->ratio, judged_loss_pp(*it->second, basis));
      if (c != "disc" && c != "raw" && c != "zstd") best_baseline = std::max(best_baseline, it->second->ratio);
    }
    auto disc_row = row.find("disc");
    if (disc_row != row.end() && best_baseline > 0)
      s += fmt::format(" {:.2f}× |\n", disc_row->second->ratio / best_baseline);
    else
      s += " — |\n";
  }
  s += basis == LossBasis::kLabels
           ? "\nEach cell: compression ratio vs raw fp32 (whole stream) / top-1 loss in pp (negative: the compressed "
             "pipeline was right more often than the uncompressed one).\n"
           : "\nEach cell: compression ratio vs raw fp32 (whole stream) / label-free estimate of the top-1 loss plus "
             "one standard error, in pp.\n";
  // One image's worth of loss is the floor of the standard error: it can leave this table empty.
  if (basis == LossBasis::kEstimate && too_few_images_for_budget(report.images, budget_pp)) {
    const double floor_pp = standard_error_floor_pp(report.images);
    s += fmt::format("\nWith {} images one standard error is at least {:.2f} pp (one image), {}; several hundred "
                     "images resolve finer losses.\n",
                     report.images, floor_pp,
                     floor_pp > budget_pp ? "more than this budget, so no setting can be shown within it"
                                          : "half this budget or more, so it can hold only settings that change "
                                            "almost no prediction");
  }
  return s;
}

std::string summary_markdown(const EvalReport& report) {
  const LossBasis basis = report.loss_basis();
  std::string s = fmt::format("# Rate–accuracy evaluation: {}\n\n", report.model);
  if (report.labelled)
    s += fmt::format(
        "Images {}..{} of the dataset ({} image{}). Uncompressed model on these images: top-1 {:.2f}%, top-5 "
        "{:.2f}%. Losses are against the uncompressed split model on the same images.\n",
        report.first_image, report.first_image + report.images - 1, report.images, report.images == 1 ? "" : "s",
        100 * report.reference_top1,
        100 * report.reference_top5);
  else
    s += fmt::format(
        "{} images without labels. Losses are label-free estimates against the uncompressed split model on the "
        "same images, plus one standard error (doc/EVAL.md, \"The estimate\"); `disc plan --loss estimate` "
        "plans with them.\n",
        report.images);
  if (report.chunks > 1)
    s += fmt::format("\nEvery feature map coded as {} chunks (`disc edge --chunks {}`); bytes are the chunks' "
                     "streams summed.\n", report.chunks, report.chunks);
  for (double b : kBudgetsPp) s += budget_table(report, b);
  s += fmt::format("\n### Best settings at ≤ 1.0 pp\n\n| cut | codec setting | ratio | bits/elem | {} | agreement | "
                   "encode ms | decode ms |\n|---|---|---|---|---|---|---|---|\n",
                   basis == LossBasis::kLabels ? "top-1 loss pp" : "estimated loss + 1 SE, pp");
  for (const EvalRow& r : best_within_budget(report.rows, 1.0, basis))
    s += fmt::format("| `{}` | `{}` | {:.1f}× | {:.3f} | {:.2f} | {:.4f} | {:.3f} | {:.3f} |\n", r.cut, r.codec,
                     r.ratio, r.bits_per_element, judged_loss_pp(r, basis), r.agreement, r.encode_ms, r.decode_ms);
  s += "\nPlots: `rate_*.svg` (top-1 loss vs ratio per cut), `best_ratio.svg` (best ratio at ≤ 1 pp along the "
       "network). All rows: `rows.csv`, Pareto fronts: `pareto.csv`, rate table for `disc plan`: `report.json`.\n";
  if (!report.skipped.empty()) {
    s += fmt::format("\nLeft out where they cannot be used ({}):\n\n", report.skipped.size());
    for (const std::string& why : report.skipped) s += "- " + why + "\n";
  }
  return s;
}

bool have_gnuplot() { return std::system("command -v gnuplot >/dev/null 2>&1") == 0; }

// Inline data blocks (one per codec, points (x, y)) and the `plot` clause drawing them.
std::string codec_series(const std::vector<const EvalRow*>& rows, const std::function<double(const EvalRow&)>& x,
                         const std::function<double(const EvalRow&)>& y) {
  std::map<std::string, std::vector<const EvalRow*>> by_codec;
  for (const EvalRow* r : rows) by_codec[r->codec_name].push_back(r);
  std::string blocks, plots;
  for (auto& [codec, points] : by_codec) {
    blocks += "$" + codec + " << EOD\n";
    for (const EvalRow* r : points) blocks += fmt::format("{} {}\n", x(*r), y(*r));
    blocks += "EOD\n";
    plots += (plots.empty() ? "plot " : ", ") + fmt::format("${} with linespoints title '{}'", codec, codec);
  }
  return blocks + plots;
}

// One gnuplot script per plot; data inline so each script stands alone.
std::string rate_plot_script(const std::string& cut, const std::vector<EvalRow>& front, LossBasis basis,
                             const std::string& svg) {
  std::vector<const EvalRow*> rows;
  for (const EvalRow& r : front)
    if (r.cut == cut) rows.push_back(&r);
  return fmt::format(
             "set terminal svg size 800,500 dynamic font 'sans,12'\nset output '{}'\nset title 'top-1 loss vs "
             "compression ratio at {}' noenhanced\nset logscale x\nset xlabel 'compression ratio vs fp32 (×)'\n"
             "set ylabel '{}'\nset grid\nset key top left\nset yrange [-1:*]\n",
             svg, cut, basis == LossBasis::kLabels ? "top-1 loss (pp)" : "estimated top-1 loss + 1 SE (pp)") +
         codec_series(
             rows, [](const EvalRow& r) { return r.ratio; },
             [basis](const EvalRow& r) { return judged_loss_pp(r, basis); }) +
         ", 1 with lines dt 2 lc rgb 'gray' title '1 pp'\n";
}

std::string best_plot_script(const std::vector<EvalRow>& best, LossBasis basis, const std::string& svg) {
  std::vector<const EvalRow*> rows;
  for (const EvalRow& r : best) rows.push_back(&r);
  return fmt::format(
             "set terminal svg size 900,500 dynamic font 'sans,12'\nset output '{}'\nset title 'best compression "
             "ratio at ≤ 1 pp {}, along the network'\nset logscale y\nset ylabel 'ratio vs fp32 (×)'\n"
             "set xlabel 'cut (topological position)'\nset grid\nset key top left\n",
             svg, basis == LossBasis::kLabels ? "top-1 loss" : "estimated top-1 loss + 1 SE") +
         codec_series(rows, [](const EvalRow& r) { return static_cast<double>(r.cut_position); },
                      [](const EvalRow& r) { return r.ratio; }) +
         "\n";
}

Status render(const std::filesystem::path& dir, const std::string& name, const std::string& script) {
  const auto gp = dir / (name + ".gp");
  DISC_RETURN_IF_ERROR(write_text(gp, script));
  const std::string cmd = "gnuplot '" + gp.string() + "' 2>/dev/null";
  if (std::system(cmd.c_str()) != 0) return Error("gnuplot failed on '" + gp.string() + "'");
  return Status();
}

}  // namespace

Status write_calibration_estimates(const std::vector<EvalRow>& calibration_rows, double budget_pp,
                                   const std::string& path) {
  std::string s =
      "cut,codec,ratio,bits_per_element,agreement,estimated_loss_pp,estimated_loss_se_pp,estimate_temperature,"
      "estimate_temperature_fitted,estimate_temperature_from_sweep,within_budget\n";
  for (const EvalRow& r : calibration_rows)
    s += fmt::format("{},{},{:.3f},{:.5f},{:.5f},{:.4f},{:.4f},{:.4f},{:d},{:d},{:d}\n", csv_quote(r.cut),
                     csv_quote(r.codec), r.ratio, r.bits_per_element, r.agreement, r.estimated_loss_pp,
                     r.estimated_loss_se_pp, r.estimate_temperature, static_cast<int>(r.estimate_temperature_fitted),
                     static_cast<int>(r.estimate_temperature_from_sweep),
                     static_cast<int>(within_calibration_budget(r, budget_pp)));
  return write_text(path, s);
}

Status write_eval_report(const EvalReport& report, const std::string& dir_name) {
  const std::filesystem::path dir(dir_name);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Error("cannot create '" + dir_name + "': " + ec.message());
  const LossBasis basis = report.loss_basis();
  DISC_RETURN_IF_ERROR(write_text(dir / "rows.csv", rows_csv(report.rows, report.labelled)));
  const std::vector<EvalRow> front = pareto_front(report.rows, basis);
  DISC_RETURN_IF_ERROR(write_text(dir / "pareto.csv", rows_csv(front, report.labelled)));
  DISC_RETURN_IF_ERROR(write_text(dir / "report.json", report_json(report).dump(1) + "\n"));
  DISC_RETURN_IF_ERROR(write_text(dir / "summary.md", summary_markdown(report)));
  if (!have_gnuplot()) return Status();  // plots are optional; the data is all in the CSV
  std::vector<std::string> cuts;
  for (const EvalRow& r : report.rows)
    if (std::find(cuts.begin(), cuts.end(), r.cut) == cuts.end()) cuts.push_back(r.cut);
  for (const std::string& cut : cuts) {
    const size_t position = std::find_if(report.rows.begin(), report.rows.end(), [&](const EvalRow& r) {
                              return r.cut == cut;
                            })->cut_position;
    const std::string name = fmt::format("rate_{:03d}", position);
    DISC_RETURN_IF_ERROR(render(dir, name, rate_plot_script(cut, front, basis, (dir / (name + ".svg")).string())));
  }
  return render(dir, "best_ratio",
                best_plot_script(best_within_budget(report.rows, 1.0, basis), basis, (dir / "best_ratio.svg").string()));
}

}  // namespace disc
