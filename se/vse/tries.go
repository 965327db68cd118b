package vse

// TriesLeft is how many wrong PINs in a row the SE in dir still allows
// before it locks (0: locked). A card answers it to VERIFY (SW 63Cx).
func TriesLeft(dir string, opts *Options) (int, error) {
	o := opts.withDefaults()
	n, err := readTries(dir)
	if err != nil {
		return 0, err
	}
	return max(o.MaxPINTries-n, 0), nil
}
