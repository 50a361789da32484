package lambdaapi

import (
	"archive/zip"
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// zipEntry is one file of a test archive.
type zipEntry struct {
	name    string
	data    string
	mode    fs.FileMode // 0: 0644 regular file
	link    bool        // data is the link target
	windows bool        // made without Unix modes
}

func makeZip(t testing.TB, entries ...zipEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Store} // Deflate is slow under -race
		switch {
		case e.windows:
			h.CreatorVersion = 0 // FAT
		case e.link:
			h.SetMode(fs.ModeSymlink | 0o777)
		case strings.HasSuffix(e.name, "/"):
			h.SetMode(fs.ModeDir | 0o755)
		case e.mode != 0:
			h.SetMode(e.mode)
		default:
			h.SetMode(0o644)
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(e.data)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestExtractZip(t *testing.T) {
	tests := []struct {
		name    string
		entries []zipEntry
		limit   int64
		wantErr error
		check   func(t *testing.T, dir string)
	}{
		{name: "files, directories, modes", entries: []zipEntry{
			{name: "bootstrap", data: "#!/bin/sh\n", mode: 0o755},
			{name: "lib/", data: ""},
			{name: "lib/data.txt", data: "hello", mode: 0o600},
			{name: "./dot/./x", data: "x"},
		}, check: func(t *testing.T, dir string) {
			st, err := os.Stat(filepath.Join(dir, "bootstrap"))
			if err != nil || st.Mode().Perm() != 0o755 {
				t.Fatalf("bootstrap: %v %v", st, err)
			}
			st, err = os.Stat(filepath.Join(dir, "lib", "data.txt"))
			if err != nil || st.Mode().Perm() != 0o644 { // made readable
				t.Fatalf("data.txt: %v %v", st, err)
			}
			if b, _ := os.ReadFile(filepath.Join(dir, "dot", "x")); string(b) != "x" {
				t.Fatalf("dot/x = %q", b)
			}
		}},
		{name: "archive without Unix modes gets 0755", entries: []zipEntry{{name: "bootstrap", data: "x", windows: true}},
			check: func(t *testing.T, dir string) {
				if st, err := os.Stat(filepath.Join(dir, "bootstrap")); err != nil || st.Mode().Perm() != 0o755 {
					t.Fatalf("bootstrap: %v %v", st, err)
				}
			}},
		{name: "link inside the package", entries: []zipEntry{
			{name: "lib/libx.so.1", data: "elf"}, {name: "lib/libx.so", data: "libx.so.1", link: true},
		}, check: func(t *testing.T, dir string) {
			if b, err := os.ReadFile(filepath.Join(dir, "lib", "libx.so")); err != nil || string(b) != "elf" {
				t.Fatalf("link: %q %v", b, err)
			}
		}},
		{name: "zip slip with ..", entries: []zipEntry{{name: "../evil", data: "x"}}, wantErr: errBadZip},
		{name: "zip slip nested", entries: []zipEntry{{name: "a/../../evil", data: "x"}}, wantErr: errBadZip},
		{name: "absolute path", entries: []zipEntry{{name: "/tmp/evil", data: "x"}}, wantErr: errBadZip},
		{name: "backslash path", entries: []zipEntry{{name: `..\evil`, data: "x"}}, wantErr: errBadZip},
		{name: "drive letter", entries: []zipEntry{{name: `C:/evil`, data: "x"}}, wantErr: errBadZip},
		{name: "absolute link", entries: []zipEntry{{name: "l", data: "/etc/passwd", link: true}}, wantErr: errBadZip},
		{name: "link going up", entries: []zipEntry{{name: "a/l", data: "../../etc", link: true}}, wantErr: errBadZip},
		{name: "link to . then up through it", entries: []zipEntry{
			{name: "d", data: ".", link: true}, {name: "d/up", data: "..", link: true}}, wantErr: errBadZip},
		{name: "over the unzipped limit", entries: []zipEntry{{name: "big", data: strings.Repeat("z", 5000)}}, limit: 4096, wantErr: errUnzippedLimit},
		{name: "over the limit across files", entries: []zipEntry{
			{name: "a", data: strings.Repeat("z", 3000)}, {name: "b", data: strings.Repeat("z", 3000)}}, limit: 4096, wantErr: errUnzippedLimit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			dir := filepath.Join(root, "pkg")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			limit := tt.limit
			if limit == 0 {
				limit = MaxUnzippedSize
			}
			_, err := extractZip(makeZip(t, tt.entries...), dir, limit)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("got %v, want %v", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatalf("extractZip: %v", err)
			}
			assertContained(t, root, dir)
			if tt.check != nil {
				tt.check(t, dir)
			}
		})
	}
	if _, err := extractZip([]byte("not a zip"), t.TempDir(), MaxUnzippedSize); !errors.Is(err, errBadZip) {
		t.Fatalf("garbage: %v", err)
	}
}

// assertContained checks that root holds nothing but dir.
func assertContained(t testing.TB, root, dir string) {
	t.Helper()
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if filepath.Join(root, e.Name()) != dir {
			t.Fatalf("%s was written outside the package directory", e.Name())
		}
	}
}

func TestUnpackIsContentAddressed(t *testing.T) {
	data := t.TempDir()
	z := makeZip(t, zipEntry{name: "bootstrap", data: "x", mode: 0o755})
	a, err := unpack(data, "fn", z)
	if err != nil {
		t.Fatal(err)
	}
	b, err := unpack(data, "fn", z)
	if err != nil || a.Dir != b.Dir || a.Sha256 != b.Sha256 {
		t.Fatalf("second unpack: %+v %v", b, err)
	}
	if !strings.HasPrefix(a.Dir, filepath.Join(data, "functions", "code", "fn")+string(filepath.Separator)) || len(filepath.Base(a.Dir)) != 64 {
		t.Fatalf("dir %s", a.Dir)
	}
}

func FuzzExtractZip(f *testing.F) {
	f.Add(makeZip(f, zipEntry{name: "bootstrap", data: "x", mode: 0o755}, zipEntry{name: "a/b/", data: ""}))
	f.Add(makeZip(f, zipEntry{name: "../x", data: "x"}))
	f.Add(makeZip(f, zipEntry{name: "l", data: "a", link: true}, zipEntry{name: "a", data: "b"}))
	f.Add([]byte("PK\x03\x04"))
	f.Fuzz(func(t *testing.T, data []byte) {
		root := t.TempDir()
		dir := filepath.Join(root, "pkg")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		n, err := extractZip(data, dir, 1<<20)
		if err == nil && n > 1<<20 {
			t.Fatalf("wrote %d bytes over the limit", n)
		}
		assertContained(t, root, dir)
		// Every link left behind stays inside dir.
		_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.Type()&fs.ModeSymlink == 0 {
				return nil
			}
			target, _ := os.Readlink(p)
			if filepath.IsAbs(target) || strings.Contains(target, "..") {
				t.Fatalf("link %s -> %s", p, target)
			}
			return nil
		})
	})
}
