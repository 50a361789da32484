package lambdaapi

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Deployment package limits of AWS Lambda.
const (
	// MaxZipSize is the largest zip accepted by direct upload (50 MB).
	MaxZipSize = 50 << 20
	// MaxUnzippedSize is the largest unpacked package (250 MB).
	MaxUnzippedSize = 262144000
)

var (
	errBadZip        = errors.New("not a valid zip archive")
	errUnzippedLimit = errors.New("unzipped size over the limit")
)

// unpackedCode is an unpacked deployment package.
type unpackedCode struct {
	Dir       string // {dataDir}/functions/code/{name}/{hex sha256}
	Sha256    string // base64 SHA-256 of the zip, as AWS reports CodeSha256
	ZipSize   int64
	SizeBytes int64 // unpacked
}

// unpack stores a zip's contents under dataDir, content-addressed: a package
// already unpacked is reused.
func unpack(dataDir, name string, zipData []byte) (*unpackedCode, error) {
	if len(zipData) > MaxZipSize {
		return nil, errUnzippedLimit
	}
	sum := sha256.Sum256(zipData)
	dir := filepath.Join(dataDir, "functions", "code", name, hex.EncodeToString(sum[:]))
	out := &unpackedCode{Dir: dir, Sha256: base64.StdEncoding.EncodeToString(sum[:]), ZipSize: int64(len(zipData))}
	if st, err := os.Stat(dir); err == nil && st.IsDir() {
		out.SizeBytes = dirSize(dir)
		return out, nil
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".unpack-*")
	if err != nil {
		return nil, err
	}
	size, err := extractZip(zipData, tmp, MaxUnzippedSize)
	if err != nil {
		_ = os.RemoveAll(tmp)
		return nil, err
	}
	if err := os.Rename(tmp, dir); err != nil {
		_ = os.RemoveAll(tmp)
		if st, serr := os.Stat(dir); serr == nil && st.IsDir() { // a concurrent upload of the same zip won
			out.SizeBytes = dirSize(dir)
			return out, nil
		}
		return nil, err
	}
	out.SizeBytes = size
	return out, nil
}

func dirSize(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}

// extractZip writes the archive into dir (which must exist and be empty)
// and returns the bytes written. It refuses entries that would land outside
// dir (absolute paths, "..", backslashes, drive letters), symbolic links
// whose target is absolute or contains "..", and archives that unpack to more than limit bytes
// (counted as written, not as the headers claim). Files keep their Unix
// permission bits; entries made without Unix modes get 0755.
func extractZip(data []byte, dir string, limit int64) (int64, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return 0, fmt.Errorf("%w: %v", errBadZip, err)
	}
	var total int64
	type link struct{ name, target string }
	var links []link
	for _, f := range zr.File {
		name, err := cleanEntryName(f.Name)
		if err != nil {
			return 0, err
		}
		if name == "" {
			continue
		}
		dst := filepath.Join(dir, filepath.FromSlash(name))
		mode := f.Mode()
		switch {
		case mode.IsDir():
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return 0, err
			}
			continue
		case mode&fs.ModeSymlink != 0:
			rc, err := f.Open()
			if err != nil {
				return 0, fmt.Errorf("%w: %v", errBadZip, err)
			}
			target, err := io.ReadAll(io.LimitReader(rc, 4096))
			rc.Close()
			if err != nil {
				return 0, fmt.Errorf("%w: %v", errBadZip, err)
			}
			links = append(links, link{name, string(target)})
			continue
		case !mode.IsRegular():
			return 0, fmt.Errorf("%w: %s is not a regular file", errBadZip, f.Name)
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return 0, err
		}
		perm := mode.Perm()
		if perm == 0 || f.CreatorVersion>>8 != 3 { // not made on Unix: no modes recorded
			perm = 0o755
		}
		perm |= 0o444 // Lambda needs files to be readable
		n, err := writeEntry(f, dst, perm, limit-total)
		total += n
		if err != nil {
			return total, err
		}
	}
	// Links last, so that a link cannot redirect a later file's write.
	for _, l := range links {
		target := l.target
		if target == "" || path.IsAbs(target) || strings.ContainsAny(target, "\\\x00") {
			return 0, fmt.Errorf("%w: link %s points outside the package", errBadZip, l.name)
		}
		// Only downward targets: a link may sit in a directory reached
		// through another link, so ".." is never safe to resolve lexically.
		for _, el := range strings.Split(target, "/") {
			if el == ".." {
				return 0, fmt.Errorf("%w: link %s points outside the package", errBadZip, l.name)
			}
		}
		dst := filepath.Join(dir, filepath.FromSlash(l.name))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return 0, err
		}
		_ = os.Remove(dst)
		if err := os.Symlink(target, dst); err != nil {
			return 0, fmt.Errorf("%w: link %s: %v", errBadZip, l.name, err)
		}
	}
	return total, nil
}

func writeEntry(f *zip.File, dst string, perm fs.FileMode, remaining int64) (int64, error) {
	rc, err := f.Open()
	if err != nil {
		return 0, fmt.Errorf("%w: %v", errBadZip, err)
	}
	defer rc.Close()
	// A link left by an earlier entry of the same name is replaced, never
	// followed.
	if st, err := os.Lstat(dst); err == nil && !st.Mode().IsRegular() {
		if err := os.RemoveAll(dst); err != nil {
			return 0, err
		}
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(out, io.LimitReader(rc, remaining+1))
	cerr := out.Close()
	if err != nil {
		return n, fmt.Errorf("%w: %v", errBadZip, err)
	}
	if cerr != nil {
		return n, cerr
	}
	if n > remaining {
		return n, errUnzippedLimit
	}
	return n, os.Chmod(dst, perm)
}

// cleanEntryName validates a zip entry name and returns it cleaned, relative,
// slash-separated; "" for the root itself.
func cleanEntryName(name string) (string, error) {
	if strings.ContainsAny(name, "\\\x00") || name == "" {
		return "", fmt.Errorf("%w: invalid entry name %q", errBadZip, name)
	}
	if path.IsAbs(name) || (len(name) >= 2 && name[1] == ':') {
		return "", fmt.Errorf("%w: entry %q has an absolute path", errBadZip, name)
	}
	clean := path.Clean(name)
	if clean == "." {
		return "", nil
	}
	if clean == ".." || strings.HasPrefix(clean, "../") {
		return "", fmt.Errorf("%w: entry %q is outside the package", errBadZip, name)
	}
	return clean, nil
}
