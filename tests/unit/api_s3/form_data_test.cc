// multipart/form-data parsing for PostObject: fields, files in pieces,
// delimiters split across reads, malformed bodies, and random input.
#include "api/s3/form_data.h"

#include <gtest/gtest.h>

#include <random>

namespace garage::s3 {
namespace {

struct parsed_part {
  form_part head;
  std::string data;
};

// Feeds `body` in pieces of `step` bytes; the parts, or the error.
s3_result<std::vector<parsed_part>> parse(const std::string& boundary, std::string_view body,
                                          size_t step) {
  form_data_parser p(boundary);
  std::vector<parsed_part> parts;
  size_t fed = 0;
  bool in_part = false;
  for (int guard = 0; guard < 1000000; ++guard) {
    auto e = p.next();
    if (!e) return std::move(e).error();
    switch (e->kind) {
      case form_data_parser::event::need_more:
        if (fed >= body.size()) {
          p.end_of_input();
        } else {
          size_t n = std::min(step, body.size() - fed);
          p.feed(body.substr(fed, n));
          fed += n;
        }
        break;
      case form_data_parser::event::part_begin:
        EXPECT_FALSE(in_part);
        in_part = true;
        parts.push_back({e->part, {}});
        break;
      case form_data_parser::event::part_data:
        EXPECT_TRUE(in_part);
        EXPECT_FALSE(e->data.empty());
        parts.back().data.append(e->data);
        break;
      case form_data_parser::event::part_end:
        EXPECT_TRUE(in_part);
        in_part = false;
        break;
      case form_data_parser::event::done:
        EXPECT_FALSE(in_part);
        return parts;
    }
  }
  ADD_FAILURE() << "parser did not finish";
  return make_error(s3_errc::internal_error);
}

const std::string kBody =
    "preamble to ignore\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"key\"\r\n\r\n"
    "uploads/${filename}\r\n"
    "--XyZ\r\n"
    "content-disposition: form-data; name=\"Policy\"\r\n\r\n"
    "\r\n"
    "--XyZ  \r\n"
    "Content-Disposition: form-data; name=\"file\"; filename=\"a \\\"b\\\".txt\"\r\n"
    "Content-Type: text/plain\r\n\r\n"
    "line one\r\n-- XyZ, --XyZ not a boundary\r\n--Xy\r\n\r\n--XyZ\r\n"
    "Content-Disposition: form-data; name=\"after\"\r\n\r\n"
    "x\r\n"
    "--XyZ--\r\nepilogue";

TEST(form_data, fields_and_file_whatever_the_read_sizes) {
  for (size_t step : {1u, 2u, 3u, 7u, 64u, 100000u}) {
    auto parts = parse("XyZ", kBody, step);
    ASSERT_TRUE(parts) << step << ": " << parts.error().message;
    ASSERT_EQ(parts->size(), 4u);
    EXPECT_EQ((*parts)[0].head.name, "key");
    EXPECT_EQ((*parts)[0].data, "uploads/${filename}");
    EXPECT_FALSE((*parts)[0].head.filename);
    EXPECT_EQ((*parts)[1].head.name, "Policy");
    EXPECT_EQ((*parts)[1].data, "");
    EXPECT_EQ((*parts)[2].head.name, "file");
    EXPECT_EQ((*parts)[2].head.filename, "a \"b\".txt");
    EXPECT_EQ((*parts)[2].head.content_type, "text/plain");
    EXPECT_EQ((*parts)[2].data, "line one\r\n-- XyZ, --XyZ not a boundary\r\n--Xy\r\n");
    EXPECT_EQ((*parts)[3].data, "x");
  }
}

TEST(form_data, large_file_streams_in_pieces) {
  std::string file(300000, 'a');
  for (size_t i = 0; i < file.size(); ++i) file[i] = static_cast<char>('a' + i % 26);
  std::string body =
      "--b\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n" + file + "\r\n--b--\r\n";
  form_data_parser p("b");
  size_t fed = 0, biggest_buffered = 0;
  std::string got;
  for (;;) {
    auto e = p.next();
    ASSERT_TRUE(e);
    if (e->kind == form_data_parser::event::need_more) {
      size_t n = std::min<size_t>(4096, body.size() - fed);
      if (n == 0) {
        p.end_of_input();
        continue;
      }
      p.feed(std::string_view(body).substr(fed, n));
      fed += n;
    } else if (e->kind == form_data_parser::event::part_data) {
      got.append(e->data);
      biggest_buffered = std::max(biggest_buffered, fed - got.size());
    } else if (e->kind == form_data_parser::event::done) {
      break;
    }
  }
  EXPECT_EQ(got, file);
  // The parser keeps only what may be a delimiter plus the last read.
  EXPECT_LT(biggest_buffered, 4096u + 200u);
}

TEST(form_data, boundary_from_content_type) {
  EXPECT_EQ(form_boundary("multipart/form-data; boundary=abc"), "abc");
  EXPECT_EQ(form_boundary("Multipart/Form-Data;boundary=\"a b;c\""), "a b;c");
  EXPECT_EQ(form_boundary("multipart/form-data; charset=utf-8; boundary=x1"), "x1");
  EXPECT_FALSE(form_boundary("multipart/form-data"));
  EXPECT_FALSE(form_boundary("multipart/form-data; boundary="));
  EXPECT_FALSE(form_boundary("text/plain; boundary=abc"));
  EXPECT_FALSE(form_boundary("multipart/form-data; boundary=" + std::string(71, 'a')));
}

TEST(form_data, malformed_bodies_are_errors) {
  auto code = [](std::string body) {
    auto r = parse("b", body, 5);
    return r ? std::string("ok") : code_name(r.error().code);
  };
  EXPECT_EQ(code(""), "MalformedPOSTRequest");
  EXPECT_EQ(code("--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nno end"),
            "MalformedPOSTRequest");
  EXPECT_EQ(code("--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--"), "MalformedPOSTRequest");
  EXPECT_EQ(code("--b\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nx\r\n--b--"),
            "MalformedPOSTRequest");
  EXPECT_EQ(code("--b\r\nno colon here\r\n\r\nx\r\n--b--"), "MalformedPOSTRequest");
  EXPECT_EQ(code("--bX\r\n"), "MalformedPOSTRequest");
  EXPECT_EQ(code("--b\r\nContent-Disposition: form-data; name=a\r\n" +
                 std::string(form_data_parser::kMaxPartHeaders, 'x')),
            "MalformedPOSTRequest");
  EXPECT_EQ(code("--b\r\nContent-Disposition: form-data; name=a\r\n\r\nx\r\n--b--"), "ok");
  EXPECT_EQ(code("--b--"), "ok");  // no parts at all
}

TEST(form_data, fuzz_random_and_mutated_bodies) {
  std::mt19937 rng(41);
  auto below = [&](size_t n) {
    return n == 0 ? 0 : std::uniform_int_distribution<size_t>(0, n - 1)(rng);
  };
  static constexpr char interesting[] = "-\r\nXyZ\";=: \tb";
  int ok = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string body;
    if (i % 4 == 0) {
      body.resize(below(300));
      for (auto& c : body) c = i % 8 == 0 ? static_cast<char>(below(256)) : interesting[below(14)];
    } else {
      body = kBody;
      for (size_t n = 1 + below(6); n > 0; --n) {
        size_t pos = below(body.size() + 1);
        switch (below(4)) {
          case 0:
            if (pos < body.size()) body[pos] = static_cast<char>(below(256));
            break;
          case 1:
            body.insert(pos, 1, interesting[below(14)]);
            break;
          case 2:
            if (pos < body.size()) body.erase(pos, 1 + below(8));
            break;
          case 3:
            body.resize(pos);
            break;
        }
      }
    }
    auto r = parse("XyZ", body, 1 + below(40));
    if (r) {
      ++ok;
      for (const auto& p : *r) EXPECT_LE(p.data.size(), body.size());
    } else {
      EXPECT_EQ(r.error().code, s3_errc::malformed_post_request);
    }
  }
  EXPECT_GT(ok, 0);
}

}  // namespace
}  // namespace garage::s3
