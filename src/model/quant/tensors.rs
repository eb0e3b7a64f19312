//! [`QTensors`]: the integer tensors of a quantized cell in file order, so that one encoder and
//! one decoder of the quantized file ([`crate::qformat`]) serve [`QRnn`] and [`QGru`] (and any
//! later quantized cell), as [`Params`](crate::Params) does for the f32 cells.

use super::{QGru, QRnn};
use crate::model::CellKind;
use crate::model::normalize::Normalization;

/// A quantized cell's integers: `i32` word tensors (row multipliers, biases) and `i8` weight
/// tensors, each listed in the order of the file, plus the logit scale and, for a cell that
/// takes raw dense samples, the inputs' normalization.
pub trait QTensors<const I: usize>: Sized {
    /// The f32 cell this one quantizes (recorded in the file).
    const KIND: CellKind;
    /// Hidden units.
    const HIDDEN: usize;
    /// Outputs.
    const OUTPUTS: usize;
    /// Number of word tensors.
    const WORD_TENSORS: usize;
    /// Number of weight tensors.
    const WEIGHT_TENSORS: usize;
    /// Word tensor `index` (empty past the last).
    fn words(&self, index: usize) -> &[i32];
    /// Word tensor `index`, mutable.
    fn words_mut(&mut self, index: usize) -> &mut [i32];
    /// Weight tensor `index` (empty past the last).
    fn weights(&self, index: usize) -> &[i8];
    /// Weight tensor `index`, mutable.
    fn weights_mut(&mut self, index: usize) -> &mut [i8];
    /// The real value of one unit of an integer logit.
    fn logit_scale(&self) -> f32;
    /// Sets the logit scale.
    fn set_logit_scale(&mut self, scale: f32);
    /// The normalization the cell applies to raw dense samples (the identity for a model of
    /// tokens).
    fn normalization(&self) -> &Normalization<I>;
    /// Sets the normalization.
    fn set_normalization(&mut self, normalization: &Normalization<I>);
}

impl<const I: usize, const H: usize, const O: usize> QTensors<I> for QRnn<I, H, O> {
    const KIND: CellKind = CellKind::Elman;
    const HIDDEN: usize = H;
    const OUTPUTS: usize = O;
    const WORD_TENSORS: usize = 5;
    const WEIGHT_TENSORS: usize = 3;

    fn words(&self, index: usize) -> &[i32] {
        match index {
            0 => &self.xh_multiplier,
            1 => &self.hh_multiplier,
            2 => &self.hy_multiplier,
            3 => &self.b_h,
            4 => &self.b_y,
            _ => &[],
        }
    }

    fn words_mut(&mut self, index: usize) -> &mut [i32] {
        match index {
            0 => &mut self.xh_multiplier,
            1 => &mut self.hh_multiplier,
            2 => &mut self.hy_multiplier,
            3 => &mut self.b_h,
            4 => &mut self.b_y,
            _ => &mut [],
        }
    }

    fn weights(&self, index: usize) -> &[i8] {
        match index {
            0 => self.w_xh.as_flattened(),
            1 => self.w_hh.as_flattened(),
            2 => self.w_hy.as_flattened(),
            _ => &[],
        }
    }

    fn weights_mut(&mut self, index: usize) -> &mut [i8] {
        match index {
            0 => self.w_xh.as_flattened_mut(),
            1 => self.w_hh.as_flattened_mut(),
            2 => self.w_hy.as_flattened_mut(),
            _ => &mut [],
        }
    }

    fn logit_scale(&self) -> f32 {
        self.logit_scale
    }

    fn set_logit_scale(&mut self, scale: f32) {
        self.logit_scale = scale;
    }

    fn normalization(&self) -> &Normalization<I> {
        &self.normalization
    }

    fn set_normalization(&mut self, normalization: &Normalization<I>) {
        self.normalization = *normalization;
    }
}

impl<const I: usize, const H: usize, const O: usize> QTensors<I> for QGru<I, H, O> {
    const KIND: CellKind = CellKind::Gru;
    const HIDDEN: usize = H;
    const OUTPUTS: usize = O;
    const WORD_TENSORS: usize = 6;
    const WEIGHT_TENSORS: usize = 3;

    fn words(&self, index: usize) -> &[i32] {
        match index {
            0 => self.x_multiplier.as_flattened(),
            1 => self.h_multiplier.as_flattened(),
            2 => &self.hy_multiplier,
            3 => self.b_x.as_flattened(),
            4 => self.b_h.as_flattened(),
            5 => &self.b_y,
            _ => &[],
        }
    }

    fn words_mut(&mut self, index: usize) -> &mut [i32] {
        match index {
            0 => self.x_multiplier.as_flattened_mut(),
            1 => self.h_multiplier.as_flattened_mut(),
            2 => &mut self.hy_multiplier,
            3 => self.b_x.as_flattened_mut(),
            4 => self.b_h.as_flattened_mut(),
            5 => &mut self.b_y,
            _ => &mut [],
        }
    }

    fn weights(&self, index: usize) -> &[i8] {
        match index {
            0 => self.w_x.as_flattened().as_flattened(),
            1 => self.w_h.as_flattened().as_flattened(),
            2 => self.w_hy.as_flattened(),
            _ => &[],
        }
    }

    fn weights_mut(&mut self, index: usize) -> &mut [i8] {
        match index {
            0 => self.w_x.as_flattened_mut().as_flattened_mut(),
            1 => self.w_h.as_flattened_mut().as_flattened_mut(),
            2 => self.w_hy.as_flattened_mut(),
            _ => &mut [],
        }
    }

    fn logit_scale(&self) -> f32 {
        self.logit_scale
    }

    fn set_logit_scale(&mut self, scale: f32) {
        self.logit_scale = scale;
    }

    fn normalization(&self) -> &Normalization<I> {
        &self.normalization
    }

    fn set_normalization(&mut self, normalization: &Normalization<I>) {
        self.normalization = *normalization;
    }
}
