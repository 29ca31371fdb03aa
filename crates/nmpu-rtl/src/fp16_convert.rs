//! Conversions of the FP16 baseline (docs/arithmetic.md section 6), combinational:
//! `FromCode`: a signed ADC code to binary16, round to nearest even, overflow to infinity;
//! `ToCode`: binary16 to the output code, `round_half_even(z * 2^frac)` saturated to the
//! output range, +-inf to the limits, NaN to 0. This crate's own reading of the spec; the
//! golden model's versions are in nmpu_model::fp16.

use crate::params::{IN_LANE_BITS, OUT_LANE_BITS};
use nmpu_config::{NmpuConfig, QFormat};
use rust_hdl::prelude::*;

/// Normalisation width: codes up to 24 bits, leading one moved to bit 31.
const NORM: usize = 32;

#[derive(LogicBlock)]
pub struct FromCode {
    /// The code in the low `in_bits` bits (bits above ignored).
    pub x: Signal<In, Bits<IN_LANE_BITS>>,
    pub z: Signal<Out, Bits<16>>,
    mask: Constant<Bits<NORM>>,
    modulus: Constant<Bits<NORM>>,
    sign_bit: Constant<Bits<NORM>>,
    raw: Signal<Local, Bits<NORM>>,
    neg: Signal<Local, Bit>,
    mag: Signal<Local, Bits<NORM>>,
    n16: Signal<Local, Bits<NORM>>,
    n8: Signal<Local, Bits<NORM>>,
    n4: Signal<Local, Bits<NORM>>,
    n2: Signal<Local, Bits<NORM>>,
    n1: Signal<Local, Bits<NORM>>,
    /// Leading zeros of `mag` in 32 bits.
    lz: Signal<Local, Bits<6>>,
    sig: Signal<Local, Bits<12>>,
    round_up: Signal<Local, Bit>,
    rounded: Signal<Local, Bits<12>>,
    /// Biased exponent: 15 + (31 - lz), plus one when rounding carries out.
    exp: Signal<Local, Bits<6>>,
}

impl FromCode {
    pub fn new(cfg: &NmpuConfig) -> Self {
        let b = cfg.in_bits;
        FromCode {
            x: Default::default(),
            z: Default::default(),
            mask: Constant::new(bits((1u64 << b) - 1)),
            modulus: Constant::new(bits(1u64 << b)),
            sign_bit: Constant::new(bits(1u64 << (b - 1))),
            raw: Default::default(),
            neg: Default::default(),
            mag: Default::default(),
            n16: Default::default(),
            n8: Default::default(),
            n4: Default::default(),
            n2: Default::default(),
            n1: Default::default(),
            lz: Default::default(),
            sig: Default::default(),
            round_up: Default::default(),
            rounded: Default::default(),
            exp: Default::default(),
        }
    }
}

impl Logic for FromCode {
    #[hdl_gen]
    fn update(&mut self) {
        self.raw.next = bit_cast::<NORM, IN_LANE_BITS>(self.x.val()) & self.mask.val();
        self.neg.next = (self.raw.val() & self.sign_bit.val()) != 0;
        if self.neg.val() {
            self.mag.next = self.modulus.val() - self.raw.val();
        } else {
            self.mag.next = self.raw.val();
        }
        // Normalise: shift the leading one to bit 31, counting the shift.
        self.lz.next = 0.into();
        self.n16.next = self.mag.val();
        if self.mag.val().get_bits::<16>(16) == 0 {
            self.n16.next = self.mag.val() << 16;
            self.lz.next = self.lz.val() + 16;
        }
        self.n8.next = self.n16.val();
        if self.n16.val().get_bits::<8>(24) == 0 {
            self.n8.next = self.n16.val() << 8;
            self.lz.next = self.lz.val() + 8;
        }
        self.n4.next = self.n8.val();
        if self.n8.val().get_bits::<4>(28) == 0 {
            self.n4.next = self.n8.val() << 4;
            self.lz.next = self.lz.val() + 4;
        }
        self.n2.next = self.n4.val();
        if self.n4.val().get_bits::<2>(30) == 0 {
            self.n2.next = self.n4.val() << 2;
            self.lz.next = self.lz.val() + 2;
        }
        self.n1.next = self.n2.val();
        if !self.n2.val().get_bit(31) {
            self.n1.next = self.n2.val() << 1;
            self.lz.next = self.lz.val() + 1;
        }
        // 11 significant bits at 31..21, guard at 20, sticky below: ties to even.
        self.sig.next = bit_cast::<12, 11>(self.n1.val().get_bits::<11>(21));
        self.round_up.next = self.n1.val().get_bit(20)
            & ((self.n1.val().get_bits::<20>(0) != 0) | self.n1.val().get_bit(21));
        self.rounded.next = self.sig.val() + bit_cast::<12, 1>(self.round_up.val().into());
        self.exp.next = 46.into();
        self.exp.next = self.exp.val() - self.lz.val();
        if self.rounded.val().get_bit(11) {
            self.exp.next = self.exp.val() + 1;
        }
        if self.mag.val() == 0 {
            self.z.next = 0.into();
        } else if self.exp.val() >= 31 {
            self.z.next = bit_cast::<16, 1>(self.neg.val().into()) << 15;
            self.z.next = self.z.val() | 0x7c00;
        } else {
            // A carry out of rounding leaves the fraction 0 (the significand became 2048).
            self.z.next = (bit_cast::<16, 1>(self.neg.val().into()) << 15)
                | (bit_cast::<16, 6>(self.exp.val()) << 10)
                | (bit_cast::<16, 12>(self.rounded.val()) & 0x3ff);
        }
    }
}

/// Magnitudes: an 11-bit significand shifted left by up to 16.
const MAG: usize = 28;

#[derive(LogicBlock)]
pub struct ToCode {
    pub z: Signal<In, Bits<16>>,
    /// The output code, sign- (signed output) or zero-extended (unsigned) to 16 bits.
    pub y: Signal<Out, Bits<OUT_LANE_BITS>>,
    /// `frac(OUT) + 25`: with the exponent field, one unsigned count for the scale.
    left_base: Constant<Bits<8>>,
    max_code: Constant<Bits<MAG>>,
    /// `-min(OUT)` as a magnitude (0 for unsigned outputs), and `min(OUT)` as 16 bits.
    min_mag: Constant<Bits<MAG>>,
    min_word: Constant<Bits<16>>,
    max_word: Constant<Bits<16>>,
    neg: Signal<Local, Bit>,
    exp: Signal<Local, Bits<8>>,
    sig: Signal<Local, Bits<MAG>>,
    u: Signal<Local, Bits<8>>,
    shift: Signal<Local, Bits<8>>,
    keep: Signal<Local, Bits<MAG>>,
    rem: Signal<Local, Bits<MAG>>,
    half: Signal<Local, Bits<MAG>>,
    mag: Signal<Local, Bits<MAG>>,
    too_big: Signal<Local, Bit>,
    neg_mag: Signal<Local, Bits<16>>,
}

impl ToCode {
    pub fn new(out: &QFormat) -> Self {
        let (min, max) = (out.min_code(), out.max_code());
        ToCode {
            z: Default::default(),
            y: Default::default(),
            left_base: Constant::new(bits(u64::from(out.frac) + 25)),
            max_code: Constant::new(bits(max as u64)),
            min_mag: Constant::new(bits((-min) as u64)),
            min_word: Constant::new(bits((min as u64) & 0xffff)),
            max_word: Constant::new(bits(max as u64)),
            neg: Default::default(),
            exp: Default::default(),
            sig: Default::default(),
            u: Default::default(),
            shift: Default::default(),
            keep: Default::default(),
            rem: Default::default(),
            half: Default::default(),
            mag: Default::default(),
            too_big: Default::default(),
            neg_mag: Default::default(),
        }
    }
}

impl Logic for ToCode {
    #[hdl_gen]
    fn update(&mut self) {
        self.neg.next = self.z.val().get_bit(15);
        self.exp.next = bit_cast::<8, 5>(self.z.val().get_bits::<5>(10));
        // Significand and effective exponent (subnormals: exponent 1, no hidden bit).
        self.sig.next = bit_cast::<MAG, 10>(self.z.val().get_bits::<10>(0));
        if self.exp.val() != 0 {
            self.sig.next = self.sig.val() | 0x400;
        } else {
            self.exp.next = 1.into();
        }
        // value * 2^frac = sig * 2^(exp + frac - 25) = sig * 2^(u - 50), u = exp + frac + 25.
        self.u.next = self.exp.val() + self.left_base.val();
        self.too_big.next = false;
        self.mag.next = 0.into();
        self.keep.next = 0.into();
        self.rem.next = 0.into();
        self.half.next = 0.into();
        self.shift.next = 0.into();
        if self.u.val() > 66 {
            // A left shift of 17 or more puts any nonzero significand above 2^16.
            self.too_big.next = self.sig.val() != 0;
        } else if self.u.val() >= 50 {
            self.shift.next = self.u.val() - 50;
            self.mag.next = self.sig.val() << self.shift.val();
        } else {
            self.shift.next = 50 - self.u.val();
            // Codes below 2^-1 after a 12-bit shift round to 0: cap the shift there.
            if self.shift.val() > 12 {
                self.shift.next = 12.into();
            }
            self.keep.next = self.sig.val() >> self.shift.val();
            self.rem.next = self.sig.val() - (self.keep.val() << self.shift.val());
            self.half.next = bit_cast::<MAG, 1>(true.into()) << (self.shift.val() - 1);
            self.mag.next = self.keep.val();
            if (self.rem.val() > self.half.val())
                | ((self.rem.val() == self.half.val()) & self.keep.val().get_bit(0))
            {
                self.mag.next = self.keep.val() + 1;
            }
        }
        self.neg_mag.next = !self.mag.val().get_bits::<16>(0) + 1;
        if (self.exp.val() == 31) & (self.z.val().get_bits::<10>(0) != 0) {
            self.y.next = 0.into(); // NaN
        } else if self.neg.val() {
            if self.too_big.val() | (self.exp.val() == 31) | (self.mag.val() > self.min_mag.val()) {
                self.y.next = self.min_word.val();
            } else {
                self.y.next = self.neg_mag.val();
            }
        } else if self.too_big.val()
            | (self.exp.val() == 31)
            | (self.mag.val() > self.max_code.val())
        {
            self.y.next = self.max_word.val();
        } else {
            self.y.next = self.mag.val().get_bits::<16>(0);
        }
    }
}
