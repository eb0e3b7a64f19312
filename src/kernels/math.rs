//! Math shim: every transcendental function the crate calls goes through here, so the choice
//! between `libm` and `std` is made in one place. We use `libm` everywhere (also under `std`):
//! the same bits on every target keep training deterministic across host and firmware.

#[inline]
pub(crate) fn tanh(x: f32) -> f32 {
    libm::tanhf(x)
}

#[inline]
pub(crate) fn exp(x: f32) -> f32 {
    libm::expf(x)
}

#[inline]
pub(crate) fn ln(x: f32) -> f32 {
    libm::logf(x)
}

#[inline]
pub(crate) fn sqrt(x: f32) -> f32 {
    libm::sqrtf(x)
}

#[inline]
pub(crate) fn cos(x: f32) -> f32 {
    libm::cosf(x)
}

#[inline]
pub(crate) fn pow(x: f32, y: f32) -> f32 {
    libm::powf(x, y)
}
