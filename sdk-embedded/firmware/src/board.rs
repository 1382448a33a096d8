//! The board port: what this firmware needs from the hardware, in one file to replace.
//!
//! Porting to a real board means changing three things here (see the crate README):
//! 1. [`init`] returns your HAL's network driver (an `embassy_net_driver::Driver`: Ethernet
//!    MAC, Wi-Fi chip, or USB CDC-NCM) instead of [`NoDevice`], a stand-in whose link is down.
//! 2. The time driver: if your HAL has an embassy time driver (embassy-stm32, embassy-nrf,
//!    embassy-rp do), enable it and delete [`SysTickTime`]; otherwise keep it and pass your
//!    core clock to [`start_time`].
//! 3. [`random`]: read your chip's hardware RNG (ids and retry jitter need real randomness).

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
