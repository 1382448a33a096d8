//! The board port: what this firmware needs from the hardware, in one file to replace.
//!
//! Porting to a real board means changing three things here (see the crate README):
//! 1. [`init`] returns your HAL's network driver (an `embassy_net_driver::Driver`: Ethernet
//!    MAC, Wi-Fi chip, or USB CDC-NCM) instead of [`NoDevice`], a stand-in whose link is down.
//! 2. The time driver: if your HAL has an embassy time driver (embassy-stm32, embassy-nrf,
//!    embassy-rp do), enable it and delete [`SysTickTime`]; otherwise keep it and pass your
//!    core clock to [`start_time`].
//! 3. [`random`]: read your chip's hardware RNG (ids and retry jitter need real randomness).
//!
//! Also here, per board: [`capture`] (the data a status carries: a camera frame, a sensor
//! log), [`shutdown`] and [`panicked`] (a real board resets; the QEMU port exits through
//! semihosting with a status its test checks).

use core::cell::{Cell, RefCell};
use core::sync::atomic::{AtomicBool, AtomicUsize};
use core::task::{Context, Waker};

use cortex_m::peripheral::SYST;
use cortex_m::peripheral::syst::SystClkSource;
use cortex_m_rt::exception;
use critical_section::Mutex;
use embassy_net_driver::{Capabilities, Driver, HardwareAddress, LinkState};
use embassy_time_queue_utils::Queue;

/// What the rest of the firmware gets from the board.
pub struct Board {
    /// The network interface.
    pub driver: Device,
    /// A seed for the TCP/IP stack's own randomness.
    pub seed: u64,
}

/// The network driver of this board.
#[cfg(not(feature = "mps2-an386"))]
pub type Device = NoDevice;
/// The network driver of this board: QEMU's `mps2-an386` has a LAN9118.
#[cfg(feature = "mps2-an386")]
pub type Device = embassy_net_lan9118::Lan9118;

/// Brings the board up: clocks, time, network.
pub fn init() -> Board {
    let peripherals = cortex_m::Peripherals::take().expect("peripherals are taken once");
    #[cfg(not(feature = "mps2-an386"))]
    let driver = {
        // The core clock of the example part; change it to yours.
        start_time(peripherals.SYST, 16_000_000);
        NoDevice
    };
    #[cfg(feature = "mps2-an386")]
    let driver = {
        // The MPS2 FPGA images run the core at 25 MHz.
        start_time(peripherals.SYST, 25_000_000);
        // Safety: the LAN9118 sits at this address on MPS2 boards, used by nothing else.
        unsafe { embassy_net_lan9118::Lan9118::new(embassy_net_lan9118::MPS2_BASE) }
            .expect("a LAN9118 at 0x4020_0000")
    };
    Board {
        driver,
        seed: u64::from(random()) << 32 | u64::from(random()),
    }
}

/// A placeholder network interface standing for your MAC: frames come from and go to one
/// static buffer, and the link state and frame length are read with volatile reads, as a
/// driver reads its registers. Nothing ever sets them here, so the link stays down and the
/// firmware waits for it; the compiler cannot know that, so the whole TCP/IP stack stays in
/// the build and the size measurement is honest. Replace it with your HAL's driver.
pub struct NoDevice;

/// What a real driver's receive interrupt would fill in.
static FRAME_LEN: AtomicUsize = AtomicUsize::new(0);
static LINK_UP: AtomicBool = AtomicBool::new(false);
static FRAME: Mutex<RefCell<[u8; MTU]>> = Mutex::new(RefCell::new([0; MTU]));
const MTU: usize = 1514;

fn register_read(register: &AtomicUsize) -> usize {
    // Safety: the pointer comes from a live static; a volatile read keeps the compiler from
    // assuming the value never changes, as for a hardware register.
    unsafe { core::ptr::read_volatile(register.as_ptr()) }
}

/// A frame in [`FRAME`], received or to be sent.
pub struct FrameToken;

impl embassy_net_driver::RxToken for FrameToken {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, f: F) -> R {
        let len = register_read(&FRAME_LEN).min(MTU);
        critical_section::with(|cs| f(&mut FRAME.borrow_ref_mut(cs)[..len]))
    }
}

impl embassy_net_driver::TxToken for FrameToken {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        critical_section::with(|cs| f(&mut FRAME.borrow_ref_mut(cs)[..len.min(MTU)]))
    }
}

impl Driver for NoDevice {
    type RxToken<'a> = FrameToken;
    type TxToken<'a> = FrameToken;

    fn receive(&mut self, _: &mut Context<'_>) -> Option<(FrameToken, FrameToken)> {
        (register_read(&FRAME_LEN) > 0).then_some((FrameToken, FrameToken))
    }

    fn transmit(&mut self, _: &mut Context<'_>) -> Option<FrameToken> {
        Some(FrameToken)
    }

    fn link_state(&mut self, _: &mut Context<'_>) -> LinkState {
        // Safety: as in `register_read`.
        if unsafe { core::ptr::read_volatile(LINK_UP.as_ptr()) } {
            LinkState::Up
        } else {
            LinkState::Down
        }
    }

    fn capabilities(&self) -> Capabilities {
        let mut capabilities = Capabilities::default();
        capabilities.max_transmission_unit = MTU;
        capabilities
    }

    fn hardware_address(&self) -> HardwareAddress {
        HardwareAddress::Ethernet([0x02, 0x00, 0x00, 0x4e, 0x42, 0x01])
    }
}

/// An embassy time driver on the Cortex-M SysTick timer at 1 kHz (`tick-hz-1_000`): works
/// on any Cortex-M, at the cost of one interrupt per millisecond.
pub struct SysTickTime {
    ticks: Mutex<Cell<u64>>,
    queue: Mutex<RefCell<Queue>>,
}

embassy_time_driver::time_driver_impl!(static TIME: SysTickTime = SysTickTime {
    ticks: Mutex::new(Cell::new(0)),
    queue: Mutex::new(RefCell::new(Queue::new())),
});

impl embassy_time_driver::Driver for SysTickTime {
    fn now(&self) -> u64 {
        critical_section::with(|cs| self.ticks.borrow(cs).get())
    }

    fn schedule_wake(&self, at: u64, waker: &Waker) {
        critical_section::with(|cs| {
            let now = self.ticks.borrow(cs).get();
            let mut queue = self.queue.borrow_ref_mut(cs);
            queue.schedule_wake(at, waker);
            // Wakes what is already due; the SysTick handler does the rest.
            queue.next_expiration(now);
        });
    }
}

/// Starts SysTick at 1 kHz from a core clock of `core_hz`.
pub fn start_time(mut syst: SYST, core_hz: u32) {
    syst.set_clock_source(SystClkSource::Core);
    syst.set_reload(core_hz / 1000 - 1);
    syst.clear_current();
    syst.enable_interrupt();
    syst.enable_counter();
}

#[exception]
fn SysTick() {
    critical_section::with(|cs| {
        let ticks = TIME.ticks.borrow(cs);
        ticks.set(ticks.get() + 1);
        TIME.queue.borrow_ref_mut(cs).next_expiration(ticks.get());
    });
}

static RANDOM_STATE: Mutex<Cell<u32>> = Mutex::new(Cell::new(0x9e37_79b9));

/// The board's capture: none on the example board (a real firmware returns its sensor data).
#[cfg(not(feature = "mps2-an386"))]
pub fn capture() -> &'static [u8] {
    &[]
}

/// The QEMU port's capture: [`CAPTURE_BYTES`] of a fixed pattern (byte `i` is bits 13..20 of
/// `i * 2654435761` in 32 bits), which its test recomputes to check the upload.
#[cfg(feature = "mps2-an386")]
pub fn capture() -> &'static [u8] {
    &CAPTURE
}

/// The size of the QEMU port's capture: well over what travels direct, not a power of two.
#[cfg(feature = "mps2-an386")]
pub const CAPTURE_BYTES: usize = 65_539;

#[cfg(feature = "mps2-an386")]
static CAPTURE: [u8; CAPTURE_BYTES] = {
    let mut bytes = [0u8; CAPTURE_BYTES];
    let mut i = 0;
    while i < CAPTURE_BYTES {
        bytes[i] = ((i as u32).wrapping_mul(2_654_435_761) >> 13) as u8;
        i += 1;
    }
    bytes
};

/// Ends the firmware on request (`msg_purpose` `shutdown`): a real board resets.
#[cfg(not(feature = "mps2-an386"))]
pub fn shutdown() -> ! {
    cortex_m::peripheral::SCB::sys_reset()
}

/// Ends the firmware on request: QEMU prints the stack's high-water mark and exits with
/// status 0 (semihosting).
#[cfg(feature = "mps2-an386")]
pub fn shutdown() -> ! {
    let (used, size) = stack::high_water();
    cortex_m_semihosting::hprintln!("stack high-water mark: {} of {} bytes", used, size);
    cortex_m_semihosting::debug::exit(cortex_m_semihosting::debug::EXIT_SUCCESS);
    loop {
        cortex_m::asm::wfi();
    }
}

/// A panic: a real board waits for its watchdog (or a debugger).
#[cfg(not(feature = "mps2-an386"))]
pub fn panicked(_: &core::panic::PanicInfo) -> ! {
    loop {
        cortex_m::asm::wfi();
    }
}

/// A panic: QEMU prints it and exits with status 1 (semihosting), so a test sees a failure,
/// not a hang.
#[cfg(feature = "mps2-an386")]
pub fn panicked(info: &core::panic::PanicInfo) -> ! {
    cortex_m_semihosting::hprintln!("firmware panicked: {}", info);
    cortex_m_semihosting::debug::exit(cortex_m_semihosting::debug::EXIT_FAILURE);
    loop {
        cortex_m::asm::wfi();
    }
}

/// Fills the free stack with a pattern, first thing at boot, so that [`shutdown`] can report
/// how deep the stack ever went (the QEMU port; a real board measures with its debugger).
pub fn paint_stack() {
    #[cfg(feature = "mps2-an386")]
    stack::paint();
}

/// The stack measured by painting: cortex-m-rt's stack runs down from `_stack_start` (the end
/// of RAM) to `_stack_end` (the end of static data).
#[cfg(feature = "mps2-an386")]
mod stack {
    const PAINT: u32 = 0x5aa5_c33c;

    unsafe extern "C" {
        static mut _stack_end: u32;
        static _stack_start: u32;
    }

    fn bounds() -> (*mut u32, usize) {
        let bottom = &raw mut _stack_end;
        let top = &raw const _stack_start as usize;
        (bottom, top)
    }

    /// Paints from the bottom of the stack to just below the current stack pointer.
    pub fn paint() {
        let (bottom, _) = bounds();
        let sp = cortex_m::register::msp::read() as usize;
        let mut word = bottom;
        // 64 bytes of margin below the live frame.
        while (word as usize) + 64 < sp {
            // Safety: between the end of static data and the live stack frame, nothing is in
            // use this early at boot; volatile keeps the writes.
            unsafe { core::ptr::write_volatile(word, PAINT) };
            word = word.wrapping_add(1);
        }
    }

    /// (bytes of stack ever used, bytes of stack there are).
    pub fn high_water() -> (usize, usize) {
        let (bottom, top) = bounds();
        let mut word = bottom;
        // Safety: reads of the RAM between the end of static data and the stack pointer.
        while (word as usize) < top && unsafe { core::ptr::read_volatile(word) } == PAINT {
            word = word.wrapping_add(1);
        }
        (top - word as usize, top - bottom as usize)
    }
}

/// Mixes a value that differs from boot to boot into [`random`]'s state (the QEMU port has
/// no RNG: the SysTick count when the network came up, which follows the host's clock).
pub fn stir_random(entropy: u32) {
    critical_section::with(|cs| {
        let state = RANDOM_STATE.borrow(cs);
        let mixed = state.get() ^ entropy.wrapping_mul(0x85eb_ca6b);
        state.set(if mixed == 0 { 0x9e37_79b9 } else { mixed });
    });
}

/// The SysTick counter (counts down at the core clock between millisecond ticks).
pub fn systick_now() -> u32 {
    cortex_m::peripheral::SYST::get_current()
}

/// A random number. This port has no RNG and uses a xorshift generator: replace it with
/// your chip's hardware RNG.
pub fn random() -> u32 {
    critical_section::with(|cs| {
        let state = RANDOM_STATE.borrow(cs);
        let mut x = state.get();
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        state.set(x);
        x
    })
}
