//! Sign- or zero-extension of a `width`-bit code (held in the low bits of an `IW`-bit
//! word; bits above it are ignored) to a datapath value word. Combinational.

use crate::params::VALUE_BITS;
use nmpu_config::QFormat;
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct Extend<const IW: usize> {
    pub x: Signal<In, Bits<IW>>,
    pub y: Signal<Out, Bits<VALUE_BITS>>,
    /// `VALUE_BITS - width`.
    up: Constant<Bits<8>>,
    is_signed: Constant<Bit>,
    wide: Signal<Local, Bits<VALUE_BITS>>,
}

impl<const IW: usize> Extend<IW> {
    pub fn new(format: &QFormat) -> Self {
        Extend {
            x: Default::default(),
            y: Default::default(),
            up: Constant::new(bits((VALUE_BITS as u32 - format.width()) as u64)),
            is_signed: Constant::new(format.signed),
            wide: Default::default(),
        }
    }
}

impl<const IW: usize> Logic for Extend<IW> {
    #[hdl_gen]
    fn update(&mut self) {
        self.wide.next = bit_cast::<VALUE_BITS, IW>(self.x.val()) << self.up.val();
        if self.is_signed.val() & self.wide.val().get_bit(45) {
            self.y.next = !((!self.wide.val()) >> self.up.val());
        } else {
            self.y.next = self.wide.val() >> self.up.val();
        }
    }
}
