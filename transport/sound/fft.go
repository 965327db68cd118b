package sound

import (
	"math"
	"math/bits"
	"math/cmplx"
)

// fft transforms x in place (radix 2; len(x) a power of two). inverse divides by n.
func fft(x []complex128, inverse bool) {
	n := len(x)
	shift := 64 - uint(bits.Len(uint(n))-1)
	for i := range x {
		j := int(bits.Reverse64(uint64(i)) >> shift)
		if i < j {
			x[i], x[j] = x[j], x[i]
		}
	}
	sign := -1.0
	if inverse {
		sign = 1
	}
	for size := 2; size <= n; size <<= 1 {
		w := cmplx.Rect(1, sign*2*math.Pi/float64(size))
		for start := 0; start < n; start += size {
			t := complex(1, 0)
			for k := 0; k < size/2; k++ {
				a, b := x[start+k], x[start+k+size/2]*t
				x[start+k], x[start+k+size/2] = a+b, a-b
				t *= w
			}
		}
	}
	if inverse {
		for i := range x {
			x[i] /= complex(float64(n), 0)
		}
	}
}

// correlate returns |sum_k x[i+k] conj(t[k])| for every i with i+len(t) <= len(x),
// by overlap-save with FFTs.
func correlate(x []float64, t []complex128) []float64 {
	m := len(t)
	if len(x) < m {
		return nil
	}
	n := 1
	for n < 4*m {
		n <<= 1
	}
	tf := make([]complex128, n)
	copy(tf, t)
	fft(tf, false)
	for i := range tf {
		tf[i] = cmplx.Conj(tf[i])
	}
	out := make([]float64, len(x)-m+1)
	step := n - m + 1
	buf := make([]complex128, n)
	for start := 0; start < len(out); start += step {
		for i := range buf {
			if start+i < len(x) {
				buf[i] = complex(x[start+i], 0)
			} else {
				buf[i] = 0
			}
		}
		fft(buf, false)
		for i := range buf {
			buf[i] *= tf[i]
		}
		fft(buf, true)
		for i := 0; i < step && start+i < len(out); i++ {
			out[start+i] = cmplx.Abs(buf[i])
		}
	}
	return out
}

// goertzel is the power of x at frequency f (Hz) for sample rate fs.
func goertzel(x []float64, f, fs float64) float64 {
	w := 2 * math.Pi * f / fs
	c := 2 * math.Cos(w)
	var s1, s2 float64
	for _, v := range x {
		s1, s2 = v+c*s1-s2, s1
	}
	return s1*s1 + s2*s2 - c*s1*s2
}
