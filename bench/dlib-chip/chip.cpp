// Reference for the dlib face chip (bench/alignment.ts, test/detect/dlib-chip-reference.test.ts):
// dlib's own get_face_chip_details + extract_image_chip, and its HOG face detector with the
// 68-point shape predictor, on raw RGB pixels decoded once by the caller (so both sides read
// the same pixels). Never part of the product: it links libdlib, which only this check needs.
//
// Build: g++ -O2 -std=c++17 chip.cpp -o chip $(pkg-config --cflags --libs dlib-1)
// Run:   chip [shape_predictor_68_face_landmarks.dat]   then one command per stdin line:
//   landmarks <raw> <w> <h> [<l> <t> <r> <b>]
//       -> "ok x0 y0 ... x67 y67" (the HOG face nearest the centre, else the given box) | "none"
//   chip68 <raw> <w> <h> <out> <size> <padding> x0 y0 ... x67 y67
//       -> get_face_chip_details(shape, size, padding); writes size*size*3 RGB bytes to <out>
//   chipfit <raw> <w> <h> <out> <size> <n> cx0 cy0 ... (n chip points) ix0 iy0 ... (n image points)
//       -> chip_details(chip_points, image_points, size x size), same extraction
// Each chip command answers "ok <rect left top right bottom> <angle>" or "err <message>".
#include <dlib/image_processing.h>
#include <dlib/image_processing/frontal_face_detector.h>
#include <dlib/image_transforms.h>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

using namespace dlib;

static bool read_raw(const std::string& path, long w, long h, array2d<rgb_pixel>& img) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return false;
    std::vector<unsigned char> buf(w * h * 3);
    in.read(reinterpret_cast<char*>(buf.data()), buf.size());
    if (in.gcount() != static_cast<std::streamsize>(buf.size())) return false;
    img.set_size(h, w);
    for (long y = 0; y < h; ++y)
        for (long x = 0; x < w; ++x) {
            const unsigned char* p = &buf[(y * w + x) * 3];
            img[y][x] = rgb_pixel(p[0], p[1], p[2]);
        }
    return true;
}

static bool write_chip(const std::string& path, const array2d<rgb_pixel>& chip) {
    std::ofstream out(path, std::ios::binary);
    for (long y = 0; y < chip.nr(); ++y)
        for (long x = 0; x < chip.nc(); ++x) {
            const rgb_pixel& p = chip[y][x];
            const char px[3] = {static_cast<char>(p.red), static_cast<char>(p.green), static_cast<char>(p.blue)};
            out.write(px, 3);
        }
    return static_cast<bool>(out);
}

static void answer_chip(const array2d<rgb_pixel>& img, const chip_details& d, const std::string& out) {
    array2d<rgb_pixel> chip;
    extract_image_chip(img, d, chip);
    if (!write_chip(out, chip)) {
        std::cout << "err cannot write " << out << std::endl;
        return;
    }
    std::cout.precision(17);
    std::cout << "ok " << d.rect.left() << ' ' << d.rect.top() << ' ' << d.rect.right() << ' ' << d.rect.bottom() << ' '
              << d.angle << std::endl;
}

int main(int argc, char** argv) {
    const std::string model = argc > 1 ? argv[1] : "/usr/share/dlib/shape_predictor_68_face_landmarks.dat";
    frontal_face_detector detector = get_frontal_face_detector();
    std::unique_ptr<shape_predictor> predictor;  // loaded on the first landmarks command (99 MB)
    std::string line;
    while (std::getline(std::cin, line)) {
        std::istringstream in(line);
        std::string cmd, raw;
        long w = 0, h = 0;
        in >> cmd >> raw >> w >> h;
        array2d<rgb_pixel> img;
        if (!in || !read_raw(raw, w, h, img)) {
            std::cout << "err cannot read " << raw << std::endl;
            continue;
        }
        try {
            if (cmd == "landmarks") {
                if (!predictor) {
                    predictor.reset(new shape_predictor);
                    deserialize(model) >> *predictor;
                }
                std::vector<rectangle> faces = detector(img);
                rectangle box;
                double best = 1e300;
                for (const rectangle& f : faces) {
                    const double dx = center(f).x() - w / 2.0, dy = center(f).y() - h / 2.0;
                    if (dx * dx + dy * dy < best) best = dx * dx + dy * dy, box = f;
                }
                long l, t, r, b;
                if (faces.empty() && (in >> l >> t >> r >> b)) box = rectangle(l, t, r, b);
                if (box.is_empty()) {
                    std::cout << "none" << std::endl;
                    continue;
                }
                full_object_detection shape = (*predictor)(img, box);
                std::cout << "ok";
                for (unsigned long i = 0; i < shape.num_parts(); ++i)
                    std::cout << ' ' << shape.part(i).x() << ' ' << shape.part(i).y();
                std::cout << std::endl;
            } else if (cmd == "chip68") {
                std::string out;
                unsigned long size;
                double padding;
                in >> out >> size >> padding;
                std::vector<point> parts(68);
                for (point& p : parts) in >> p.x() >> p.y();
                if (!in) throw std::runtime_error("chip68 needs <out> <size> <padding> and 68 points");
                const full_object_detection shape(rectangle(0, 0, w - 1, h - 1), parts);
                answer_chip(img, get_face_chip_details(shape, size, padding), out);
            } else if (cmd == "chipfit") {
                std::string out;
                unsigned long size, n;
                in >> out >> size >> n;
                std::vector<dpoint> chip_points(n), image_points(n);
                for (dpoint& p : chip_points) in >> p.x() >> p.y();
                for (dpoint& p : image_points) in >> p.x() >> p.y();
                if (!in) throw std::runtime_error("chipfit needs <out> <size> <n> and 2n points");
                answer_chip(img, chip_details(chip_points, image_points, chip_dims(size, size)), out);
            } else {
                std::cout << "err unknown command " << cmd << std::endl;
            }
        } catch (const std::exception& e) {
            std::string msg = e.what();
            for (char& c : msg)
                if (c == '\n') c = ' ';
            std::cout << "err " << msg << std::endl;
        }
    }
    return 0;
}
